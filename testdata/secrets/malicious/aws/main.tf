provider "aws" {
  region     = "eu-west-1"
  access_key = "ASIA3GRXYLAPNGJDODD5"
}
