package rakuten

// requestsPerSecond is the pace the client keeps: RMS allows a shop's
// license key about one request a second across its APIs and answers 429
// above it.
const requestsPerSecond = 1
