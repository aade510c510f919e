package kpi

import (
	"context"
	"time"
)

// Role is what a chat channel is for.
type Role string

// Channel roles.
const (
	RoleHQ        Role = "hq"         // managers at HQ in China
	RoleJPSupport Role = "jp-support" // the support team in Japan
	RoleShop      Role = "shop"       // one shop's or platform's team
)

// Roles lists the roles.
var Roles = []Role{RoleHQ, RoleJPSupport, RoleShop}

// Lang is the language a channel of the role reads unless it is told
// otherwise: Chinese at HQ, Japanese in the Japan support team; "" for a
// shop team, which may be either.
func (r Role) Lang() string {
	switch r {
	case RoleHQ:
		return "zh"
	case RoleJPSupport:
		return "ja"
	}
	return ""
}

// ChatChannel is a chat channel (or a direct conversation) bound to kpibot: its
// role, its language and the shops it may see.
type ChatChannel struct {
	Platform string // slack, line
	ID       string // the platform's channel, group or user id
	Role     Role
	Lang     string   // zh, ja, en or zh+ja
	Shops    []string // the shops it may see; empty for every shop
}

// ChatChannels keeps the channels' bindings.
type ChatChannels interface {
	ChatChannel(ctx context.Context, platform, id string) (ChatChannel, bool, error)
	BindChatChannel(ctx context.Context, c ChatChannel) error
}

// BindCode is what a one-time bind code gives the chat channel that uses it:
// a chat where nobody can be asked whether they are an admin (LINE) is bound
// with a code that an admin made elsewhere.
type BindCode struct {
	Channel ChatChannel // its Role, Lang and Shops; Platform and ID are the using channel's
	Expires time.Time
}

// BindCodes keeps bind codes by the hash of the code, never the code itself,
// so that what is kept cannot be typed into a chat.
type BindCodes interface {
	SaveBindCode(ctx context.Context, hash string, c BindCode) error
	// UseBindCode marks the code used and returns it, once: an unknown, used
	// or expired code is a NotFound *Error whose key says which, and two
	// channels using the same code at once get it once between them.
	UseBindCode(ctx context.Context, hash string, now time.Time) (BindCode, error)
}

// ChannelLister lists the bound chat channels: what the scheduler sends
// digests and reviews to.
type ChannelLister interface {
	// ChatChannelList returns every bound channel, ordered by platform and id.
	ChatChannelList(ctx context.Context) ([]ChatChannel, error)
}
