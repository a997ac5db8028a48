package main

import "os"

// apiKey is read from GOOGLE_API_KEY (AIzaSy... in the console).
var apiKey = os.Getenv("GOOGLE_API_KEY")
