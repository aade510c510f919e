package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// codeAlphabet is what bind codes are made of: no letter or digit that
// reads as another (0 O, 1 I L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// BindCodeTTL is how long a bind code may be used.
const BindCodeTTL = 24 * time.Hour

// NewBindCode makes a one-time code that binds a chat channel as c says
// (its Role, Lang, Shops and DigestAt) for BindCodeTTL from now, and keeps
// its hash in codes. The code reads ABCD-EFGH.
func NewBindCode(ctx context.Context, codes kpi.BindCodes, c kpi.ChatChannel, now time.Time) (string, kpi.BindCode, error) {
	var code [8]byte
	var b [1]byte
	limit := 256 - 256%len(codeAlphabet) // bytes beyond it would favour the first characters
	for i := 0; i < len(code); {
		rand.Read(b[:]) // crypto/rand.Read never fails
		if int(b[0]) < limit {
			code[i] = codeAlphabet[int(b[0])%len(codeAlphabet)]
			i++
		}
	}
	bc := kpi.BindCode{Channel: kpi.ChatChannel{Role: c.Role, Lang: c.Lang, Shops: c.Shops, DigestAt: c.DigestAt}, Expires: now.Add(BindCodeTTL).Truncate(time.Second)}
	if err := codes.SaveBindCode(ctx, hashBindCode(string(code[:])), bc); err != nil {
		return "", kpi.BindCode{}, fmt.Errorf("bot: save bind code: %w", err)
	}
	return string(code[:4]) + "-" + string(code[4:]), bc, nil
}

// hashBindCode is what is kept of a code: the hex SHA-256 of its eight
// characters, upper-cased, without the dash.
func hashBindCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// BindCodeReply tells the admin who made a bind code what it binds, until
// when, and what to send in the chat to bind; digestDefault is when the
// chats without a digest time of their own get it (0: kpi.DefaultDigestAt).
// It is for the admin alone.
func BindCodeReply(p *locales.Printer, code string, c kpi.BindCode, digestDefault time.Duration) Reply {
	return Reply{Text: p.T("channel.bind_code", map[string]any{
		"Code": code, "Role": roleName(p, c.Channel.Role), "Lang": c.Channel.Lang, "Shops": shopsSeen(p, c.Channel.Shops),
		"At": digestAt(c.Channel, digestDefault), "Expires": c.Expires.In(kpi.Tokyo).Format("2006-01-02 15:04")}), Private: true}
}
