package kpi

import "context"

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
