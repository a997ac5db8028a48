const { WebClient } = require("@slack/web-api");
const web = new WebClient("xoxb-287334633624-6261014793616-bqW208yv3LNuKU9jaL3iEeDV");
