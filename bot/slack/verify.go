package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxBody is the largest request body read from Slack; its payloads are a
// few kilobytes.
const maxBody = 1 << 20

// maxSkew is how far a request's timestamp may be from now (Slack's rule).
const maxSkew = 5 * time.Minute

// verify reports whether body carries a valid v0 signature of Slack's for
// secret, signed within maxSkew of now.
func verify(h http.Header, body []byte, secret string, now time.Time) bool {
	ts := h.Get("X-Slack-Request-Timestamp")
	sig := h.Get("X-Slack-Signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" || secret == "" {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return false
	}
	want, err := hex.DecodeString(trimV0(sig))
	if err != nil {
		return false
	}
	return hmac.Equal(sign(secret, ts, body), want)
}

// sign returns HMAC-SHA256(secret, "v0:" + ts + ":" + body).
func sign(secret, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	io.WriteString(mac, "v0:"+ts+":")
	mac.Write(body)
	return mac.Sum(nil)
}

func trimV0(sig string) string {
	if len(sig) > 3 && sig[:3] == "v0=" {
		return sig[3:]
	}
	return ""
}
