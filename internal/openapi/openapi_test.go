package openapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// The official LINE specs, copied verbatim from
// https://github.com/line/line-openapi (Apache License 2.0, see
// bot/line/linetest/testdata/LICENSE), kept beside the fake LINE API that
// embeds them.
const (
	messagingSpec = "../../bot/line/linetest/testdata/messaging-api.yml"
	webhookSpec   = "../../bot/line/linetest/testdata/webhook.yml"
)

var (
	specsOnce sync.Once
	specs     = map[string]*Spec{}
	specsErr  error
)

// loadSpec parses one of the LINE specs, once per test binary.
func loadSpec(t *testing.T, path string) *Spec {
	t.Helper()
	specsOnce.Do(func() {
		for _, p := range []string{messagingSpec, webhookSpec} {
			data, err := os.ReadFile(p)
			if err != nil {
				specsErr = err
				return
			}
			if specs[p], err = Parse(data); err != nil {
				specsErr = err
				return
			}
		}
	})
	if specsErr != nil {
		t.Fatal(specsErr)
	}
	return specs[path]
}

const (
	userID    = "U4af4980629bc0c2dd0a5e2b6f0b0f3c1"
	groupID   = "Ca56f94637c0ab1b1d4b36f8c4e1e9a0f"
	retryKey  = "123e4567-e89b-12d3-a456-426614174000"
	authToken = "Bearer test-channel-token"
)

// request builds a request; headers are name, value pairs. A body gets
// Content-Type application/json unless the headers set one.
func request(method, target, body string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			r.Header.Del(headers[i])
			continue
		}
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

// push wraps messages (a JSON array's elements) in a push request body.
func push(messages string) string {
	return `{"to":"` + userID + `","messages":[` + messages + `]}`
}

// flex wraps a flex container in a flex message.
func flex(container string) string {
	return `{"type":"flex","altText":"KPI report","contents":` + container + `}`
}

// bubbleBody is a bubble whose body box holds components.
func bubbleBody(components string) string {
	return `{"type":"bubble","body":{"type":"box","layout":"vertical","contents":[` + components + `]}}`
}

const validBubble = `{
	"type": "bubble",
	"size": "mega",
	"header": {"type": "box", "layout": "vertical", "contents": [
		{"type": "text", "text": "Daily KPIs", "weight": "bold", "size": "xl"}
	]},
	"body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": [
		{"type": "box", "layout": "horizontal", "contents": [
			{"type": "text", "text": "Sales", "flex": 2, "color": "#555555"},
			{"type": "text", "text": "¥1,234", "flex": 1, "align": "end", "wrap": true}
		]},
		{"type": "separator", "margin": "md"},
		{"type": "text", "text": "Up 5% on yesterday", "size": "sm", "maxLines": 2}
	]},
	"footer": {"type": "box", "layout": "vertical", "contents": [
		{"type": "button", "style": "link", "action": {"type": "uri", "label": "Open", "uri": "https://example.com/kpi"}}
	]},
	"styles": {"footer": {"separator": true}}
}`

func repeat(item string, n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item
	}
	return strings.Join(items, ",")
}

func TestValidateRequestMessaging(t *testing.T) {
	spec := loadSpec(t, messagingSpec)
	text := `{"type":"text","text":"hi"}`
	tests := []struct {
		name    string
		req     *http.Request
		body    string
		wantErr []string // substrings of the error; none means valid
	}{
		{
			name: "valid push",
			body: push(text),
			req:  request("POST", "/v2/bot/message/push", "x", "Authorization", authToken, "X-Line-Retry-Key", retryKey),
		},
		{
			name: "push without retry key, charset in Content-Type",
			body: push(text),
			req:  request("POST", "/v2/bot/message/push", "x", "Authorization", authToken, "Content-Type", "application/json; charset=utf-8"),
		},
		{
			name:    "missing Authorization",
			body:    push(text),
			req:     request("POST", "/v2/bot/message/push", "x"),
			wantErr: []string{"header Authorization: missing"},
		},
		{
			name:    "Authorization not Bearer",
			body:    push(text),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", "Basic dXNlcjpwYXNz"),
			wantErr: []string{`header Authorization: want "Bearer <credentials>"`},
		},
		{
			name:    "bad retry key",
			body:    push(text),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken, "X-Line-Retry-Key", "retry-1"),
			wantErr: []string{`header X-Line-Retry-Key: "retry-1" is not a valid uuid`},
		},
		{
			name:    "text message without text",
			body:    push(`{"type":"text"}`),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages/0/text: missing required property"},
		},
		{
			name:    "unknown message type",
			body:    push(`{"type":"txt","text":"hi"}`),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{`/messages/0/type: unknown value "txt"; allowed: "audio", "coupon", "flex"`},
		},
		{
			name:    "missing message type",
			body:    push(`{"text":"hi"}`),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{`/messages/0/type: missing discriminator property; allowed: "audio"`},
		},
		{
			name:    "unknown property in a message",
			body:    push(`{"type":"text","text":"hi","quoteTokn":"q"}`),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages/0/quoteTokn: unknown property"},
		},
		{
			name:    "unknown property in the request",
			body:    `{"to":"` + userID + `","messages":[` + text + `],"notificationDisable":true}`,
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/notificationDisable: unknown property"},
		},
		{
			name:    "missing to",
			body:    `{"messages":[` + text + `]}`,
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/to: missing required property"},
		},
		{
			name:    "six messages (maxItems 5)",
			body:    push(repeat(text, 6)),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages: 6 items, more than maxItems 5"},
		},
		{
			name:    "no messages (minItems 1)",
			body:    push(""),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages: 0 items, fewer than minItems 1"},
		},
		{
			name: "valid flex bubble",
			body: push(flex(validBubble)),
			req:  request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
		},
		{
			// The spec sets no maxItems on FlexCarousel.contents (LINE's
			// documented limit of 12 bubbles is not in it), so only the
			// items themselves are checked.
			name: "valid flex carousel",
			body: push(flex(`{"type":"carousel","contents":[` + repeat(validBubble, 3) + `]}`)),
			req:  request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
		},
		{
			name:    "carousel holding a box",
			body:    push(flex(`{"type":"carousel","contents":[` + validBubble + `,{"type":"box","layout":"vertical","contents":[]}]}`)),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{`/messages/0/contents/contents/1/type: "box" does not select FlexBubble; want "bubble"`},
		},
		{
			name:    `flex text with "flex": "1"`,
			body:    push(flex(bubbleBody(`{"type":"text","text":"a"},{"type":"text","text":"b","flex":"1"}`))),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages/0/contents/body/contents/1/flex: expected integer, got string"},
		},
		{
			name:    `flex text with "flex": 1.5`,
			body:    push(flex(bubbleBody(`{"type":"text","text":"a","flex":1.5}`))),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages/0/contents/body/contents/0/flex: expected integer, got number"},
		},
		{
			name:    "flex beyond int32",
			body:    push(flex(bubbleBody(`{"type":"text","text":"a","flex":2147483648}`))),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages/0/contents/body/contents/0/flex: 2147483648 is out of the int32 range"},
		},
		{
			name:    "unknown flex component",
			body:    push(flex(bubbleBody(`{"type":"txt","text":"a"}`))),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{`/messages/0/contents/body/contents/0/type: unknown value "txt"; allowed: "box", "button", "filler", "icon", "image", "separator", "span", "text", "video"`},
		},
		{
			name:    "bad enum value",
			body:    push(flex(bubbleBody(`{"type":"text","text":"a","weight":"heavy"}`))),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{`/messages/0/contents/body/contents/0/weight: "heavy" is not one of ["regular", "bold"]`},
		},
		{
			name:    "bubble body that is not a box",
			body:    push(flex(`{"type":"bubble","body":{"type":"text","text":"a"}}`)),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{`/messages/0/contents/body/type: "text" does not select FlexBox; want "box"`, "/messages/0/contents/body/layout: missing required property"},
		},
		{
			name:    "uri action with a relative uri",
			body:    push(flex(bubbleBody(`{"type":"button","action":{"type":"uri","label":"x","uri":"/kpi"}}`))),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{`/messages/0/contents/body/contents/0/action/uri: "/kpi" is not an absolute URI`},
		},
		{
			name:    "flex message without altText",
			body:    push(`{"type":"flex","contents":` + validBubble + `}`),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages/0/altText: missing required property"},
		},
		{
			// Sender.name has maxLength 20, counted in characters.
			name: "sender name of 20 characters",
			body: push(`{"type":"text","text":"hi","sender":{"name":"` + strings.Repeat("売", 20) + `"}}`),
			req:  request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
		},
		{
			name:    "sender name of 21 characters",
			body:    push(`{"type":"text","text":"hi","sender":{"name":"` + strings.Repeat("売", 21) + `"}}`),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages/0/sender/name: length 21 is more than maxLength 20"},
		},
		{
			name:    "14 quick reply items (maxItems 13)",
			body:    push(`{"type":"text","text":"hi","quickReply":{"items":[` + repeat(`{"type":"action","action":{"type":"message","label":"a","text":"a"}}`, 14) + `]}}`),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages/0/quickReply/items: 14 items, more than maxItems 13"},
		},
		{
			name:    "null where an object is expected",
			body:    push(`{"type":"text","text":"hi","sender":null}`),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"/messages/0/sender: expected object, got null"},
		},
		{
			name:    "wrong Content-Type",
			body:    push(text),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken, "Content-Type", "text/plain"),
			wantErr: []string{`header Content-Type: "text/plain" is not declared; declared: application/json`},
		},
		{
			name:    "missing Content-Type",
			body:    push(text),
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken, "Content-Type", ""),
			wantErr: []string{"header Content-Type: missing"},
		},
		{
			name:    "invalid JSON",
			body:    `{"to":`,
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"body: invalid JSON"},
		},
		{
			name:    "missing body",
			req:     request("POST", "/v2/bot/message/push", "", "Authorization", authToken),
			wantErr: []string{"body: missing required request body"},
		},
		{
			name:    "body is not an object",
			body:    `[]`,
			req:     request("POST", "/v2/bot/message/push", "x", "Authorization", authToken),
			wantErr: []string{"(root): expected object, got array"},
		},
		{
			name: "reply",
			body: `{"replyToken":"nHuyWiB7yP5Zw52FIkcQobQuGDXCTA","messages":[` + text + `]}`,
			req:  request("POST", "/v2/bot/message/reply", "x", "Authorization", authToken),
		},
		{
			name: "quota",
			req:  request("GET", "/v2/bot/message/quota", "", "Authorization", authToken),
		},
		{
			name: "quota consumption",
			req:  request("GET", "/v2/bot/message/quota/consumption", "", "Authorization", authToken),
		},
		{
			name:    "quota without Authorization",
			req:     request("GET", "/v2/bot/message/quota", ""),
			wantErr: []string{"header Authorization: missing"},
		},
		{
			name:    "GET with a body",
			body:    `{}`,
			req:     request("GET", "/v2/bot/message/quota", "x", "Authorization", authToken),
			wantErr: []string{"body: the operation takes no request body"},
		},
		{
			name:    "unknown path",
			req:     request("GET", "/v2/bot/message/quotas", "", "Authorization", authToken),
			wantErr: []string{"no operation GET /v2/bot/message/quotas"},
		},
		{
			name:    "unknown method",
			req:     request("POST", "/v2/bot/message/quota", "", "Authorization", authToken),
			wantErr: []string{"no operation POST /v2/bot/message/quota"},
		},
		{
			name: "path parameter",
			req:  request("GET", "/v2/bot/group/"+groupID+"/members/count", "", "Authorization", authToken),
		},
		{
			name: "two path parameters",
			req:  request("GET", "/v2/bot/group/"+groupID+"/member/"+userID, "", "Authorization", authToken),
		},
		{
			name:    "empty path parameter",
			req:     request("GET", "/v2/bot/group//members/count", "", "Authorization", authToken),
			wantErr: []string{"no operation GET /v2/bot/group//members/count"},
		},
		{
			name: "query parameters",
			req:  request("GET", "/v2/bot/followers/ids?limit=1000&start=abc", "", "Authorization", authToken),
		},
		{
			name:    "query parameter above maximum",
			req:     request("GET", "/v2/bot/followers/ids?limit=1001", "", "Authorization", authToken),
			wantErr: []string{"query limit: 1001 is more than the maximum 1000"},
		},
		{
			name:    "query parameter not an integer",
			req:     request("GET", "/v2/bot/followers/ids?limit=ten", "", "Authorization", authToken),
			wantErr: []string{`query limit: expected integer, got "ten"`},
		},
		{
			name:    "query parameter given twice",
			req:     request("GET", "/v2/bot/followers/ids?limit=1&limit=2", "", "Authorization", authToken),
			wantErr: []string{"query limit: given 2 times, want once"},
		},
		{
			name:    "unknown query parameter",
			req:     request("GET", "/v2/bot/followers/ids?count=10", "", "Authorization", authToken),
			wantErr: []string{"query count: unknown parameter"},
		},
		{
			name:    "missing required query parameter",
			req:     request("GET", "/v2/bot/message/delivery/push", "", "Authorization", authToken),
			wantErr: []string{"query date: missing required parameter"},
		},
		{
			name:    "query parameter not matching its pattern",
			req:     request("GET", "/v2/bot/message/delivery/pnp?date=2024-01-31", "", "Authorization", authToken),
			wantErr: []string{`query date: "2024-01-31" does not match pattern ^[0-9]{8}$`},
		},
		{
			name: "query parameter matching its pattern",
			req:  request("GET", "/v2/bot/message/delivery/pnp?date=20240131", "", "Authorization", authToken),
		},
		{
			name: "binary upload",
			body: "\x89PNG",
			req:  request("POST", "/v2/bot/richmenu/richmenu-1/content", "x", "Authorization", authToken, "Content-Type", "image/png"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := spec.ValidateRequest(tt.req, []byte(tt.body))
			checkErr(t, err, tt.wantErr)
		})
	}
}

// checkErr checks that err is nil when want is empty, and otherwise that
// its message contains every string in want.
func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}

func TestOperationID(t *testing.T) {
	spec := loadSpec(t, messagingSpec)
	tests := []struct{ method, path, want string }{
		{"POST", "/v2/bot/message/push", "pushMessage"},
		{"GET", "/v2/bot/message/quota", "getMessageQuota"},
		{"GET", "/v2/bot/message/quota/consumption", "getMessageQuotaConsumption"},
		{"GET", "/v2/bot/group/C1/members/count", "getGroupMemberCount"},
		{"GET", "/v2/bot/group/C1/member/U1", "getGroupMemberProfile"},
		// A literal segment wins over a parameter.
		{"GET", "/v2/bot/richmenu/list", "getRichMenuList"},
		{"GET", "/v2/bot/richmenu/richmenu-1", "getRichMenu"},
		{"DELETE", "/v2/bot/richmenu/richmenu-1", "deleteRichMenu"},
		{"GET", "/v2/bot/richmenu/alias/list", "getRichMenuAliasList"},
		{"GET", "/v2/bot/richmenu/alias/alias-1", "getRichMenuAlias"},
		// Percent-encoded parameters are matched once decoded.
		{"GET", "/v2/bot/profile/U%31", "getProfile"},
		{"GET", "/v2/bot/message/quotas", ""},
		{"PATCH", "/v2/bot/message/push", ""},
		{"GET", "/v2/bot/message/quota/", ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if got := spec.OperationID(r); got != tt.want {
			t.Errorf("OperationID(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

// A path parameter declared on the path item (not the operation) is checked.
func TestPathItemParameters(t *testing.T) {
	spec := loadSpec(t, messagingSpec)
	r := request("GET", "/v2/bot/richmenu/richmenu-1", "", "Authorization", authToken)
	if err := spec.ValidateRequest(r, nil); err != nil {
		t.Fatal(err)
	}
	op, params := spec.find(r)
	if op == nil || params["richMenuId"] != "richmenu-1" || len(op.params) != 1 {
		t.Fatalf("find = %+v, %v", op, params)
	}
}

// webhookEvent returns a message event from a group, with fields replaced or
// removed (value "") by the overrides, given as key, raw JSON pairs.
func webhookEvent(overrides ...string) string {
	fields := []string{
		"type", `"message"`,
		"message", `{"type":"text","id":"468789577898262530","quoteToken":"q3Plxr4AgKd","text":"@bot sales today"}`,
		"webhookEventId", `"01H810YECXQQZ37VAXPF6H9E6T"`,
		"deliveryContext", `{"isRedelivery":false}`,
		"timestamp", `1692251666727`,
		"source", `{"type":"group","groupId":"` + groupID + `","userId":"` + userID + `"}`,
		"replyToken", `"38ef843bde154d9b91c21320ffd17a0f"`,
		"mode", `"active"`,
	}
	for i := 0; i+1 < len(overrides); i += 2 {
		found := false
		for j := 0; j < len(fields); j += 2 {
			if fields[j] == overrides[i] {
				fields[j+1], found = overrides[i+1], true
			}
		}
		if !found {
			fields = append(fields, overrides[i], overrides[i+1])
		}
	}
	var parts []string
	for j := 0; j < len(fields); j += 2 {
		if fields[j+1] != "" {
			parts = append(parts, `"`+fields[j]+`":`+fields[j+1])
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func callback(events ...string) string {
	return `{"destination":"` + userID + `","events":[` + strings.Join(events, ",") + `]}`
}

func TestValidateSchemaWebhook(t *testing.T) {
	spec := loadSpec(t, webhookSpec)
	follow := webhookEvent("type", `"follow"`, "message", "", "source", `{"type":"user","userId":"`+userID+`"}`, "follow", `{"isUnblocked":false}`)
	join := webhookEvent("type", `"join"`, "message", "")
	tests := []struct {
		name    string
		doc     string
		wantErr []string
	}{
		{name: "text message in a group", doc: callback(webhookEvent())},
		{name: "follow", doc: callback(follow)},
		{name: "join", doc: callback(join)},
		{name: "several events", doc: callback(webhookEvent(), follow, join)},
		{name: "no events (connection check)", doc: callback()},
		{
			name: "message with a mention",
			doc: callback(webhookEvent("message", `{"type":"text","id":"1","quoteToken":"q","text":"@bot hi",
				"mention":{"mentionees":[{"type":"user","index":0,"length":4,"userId":"`+userID+`","isSelf":true}]}}`)),
		},
		{
			name:    "missing webhookEventId",
			doc:     callback(webhookEvent("webhookEventId", "")),
			wantErr: []string{"/events/0/webhookEventId: missing required property"},
		},
		{
			name:    "wrong source type",
			doc:     callback(webhookEvent("source", `{"type":"channel","channelId":"1"}`)),
			wantErr: []string{`/events/0/source/type: unknown value "channel"; allowed: "group", "room", "user"`},
		},
		{
			name:    "group source without groupId",
			doc:     callback(webhookEvent("source", `{"type":"group","userId":"`+userID+`"}`)),
			wantErr: []string{"/events/0/source/groupId: missing required property"},
		},
		{
			name:    "text message without quoteToken",
			doc:     callback(webhookEvent("message", `{"type":"text","id":"1","text":"hi"}`)),
			wantErr: []string{"/events/0/message/quoteToken: missing required property"},
		},
		{
			name:    "follow without follow detail",
			doc:     callback(webhookEvent("type", `"follow"`, "message", "")),
			wantErr: []string{"/events/0/follow: missing required property"},
		},
		{
			name:    "unknown mode",
			doc:     callback(webhookEvent("mode", `"sleeping"`)),
			wantErr: []string{`/events/0/mode: "sleeping" is not one of ["active", "standby"]`},
		},
		{
			name:    "timestamp as a string",
			doc:     callback(webhookEvent("timestamp", `"1692251666727"`)),
			wantErr: []string{"/events/0/timestamp: expected integer, got string"},
		},
		{
			name:    "destination not matching its pattern",
			doc:     `{"destination":"u4af4980629bc0c2dd0a5e2b6f0b0f3c1","events":[]}`,
			wantErr: []string{`/destination: "u4af4980629bc0c2dd0a5e2b6f0b0f3c1" does not match pattern ^U[0-9a-f]{32}$`},
		},
		{
			name:    "unknown event field",
			doc:     callback(webhookEvent("replytoken", `"x"`)),
			wantErr: []string{"/events/0/replytoken: unknown property"},
		},
		{
			name:    "not JSON",
			doc:     `{"destination"`,
			wantErr: []string{"schema CallbackRequest: invalid JSON"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, spec.ValidateSchema("CallbackRequest", []byte(tt.doc)), tt.wantErr)
		})
	}

	// The same document as the body of the callback operation, which needs
	// no Authorization.
	r := request("POST", "/callback", "x", "X-Line-Signature", "sig")
	if err := spec.ValidateRequest(r, []byte(callback(webhookEvent()))); err != nil {
		t.Errorf("ValidateRequest(POST /callback): %v", err)
	}
	if err := spec.ValidateSchema("NoSuchSchema", []byte(`{}`)); err == nil {
		t.Error("ValidateSchema(NoSuchSchema) succeeded")
	}
}

// All the problems of a request are reported, each at its place.
func TestSeveralProblems(t *testing.T) {
	spec := loadSpec(t, messagingSpec)
	body := `{"to":"` + userID + `","foo":1,"messages":[
		{"type":"text"},
		` + flex(bubbleBody(`{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"c","flex":"1"}`)) + `,
		{"type":"bogus"},
		{"type":"sticker","packageId":1,"stickerId":"52002734"}
	]}`
	r := request("POST", "/v2/bot/message/push", "x", "X-Line-Retry-Key", "nope")
	err := spec.ValidateRequest(r, []byte(body))
	var problems Problems
	if !errors.As(err, &problems) {
		t.Fatalf("error %v is not Problems", err)
	}
	want := []string{
		`header Authorization: missing (security scheme Bearer needs bearer credentials)`,
		`header X-Line-Retry-Key: "nope" is not a valid uuid`,
		`/foo: unknown property`,
		`/messages/0/text: missing required property`,
		`/messages/1/contents/body/contents/2/flex: expected integer, got string`,
		`/messages/2/type: unknown value "bogus"; allowed: "audio", "coupon", "flex", "image", "imagemap", "location", "sticker", "template", "text", "textV2", "video"`,
		`/messages/3/packageId: expected string, got integer`,
	}
	got := map[string]bool{}
	for _, p := range problems {
		got[p] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(problems), len(want), err)
	}
	if !strings.HasPrefix(err.Error(), "POST /v2/bot/message/push (operation pushMessage): 7 problems:\n\t") {
		t.Errorf("error message %q lacks its context", err)
	}
}

// A small spec for the keywords the LINE specs do not use.
const keywordsSpec = `{
  "openapi": "3.0.3",
  "info": {"title": "t", "version": "1"},
  "servers": [{"url": "https://example.com/api/v1"}],
  "paths": {
    "/items/{id}.json": {
      "put": {
        "operationId": "putItem",
        "security": [],
        "parameters": [
          {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}},
          {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string", "minLength": 2}, "uniqueItems": true}},
          {"name": "dry", "in": "query", "schema": {"type": "boolean"}},
          {"name": "X-Key", "in": "header", "required": true, "schema": {"type": "string"}}
        ],
        "requestBody": {"required": true, "content": {"application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/Item"}}}}
      }
    }
  },
  "components": {
    "schemas": {
      "Item": {
        "type": "object",
        "required": ["name"],
        "properties": {
          "name": {"type": "string", "maxLength": 5},
          "note": {"type": "string", "nullable": true},
          "ratio": {"type": "number", "minimum": 0, "maximum": 1, "exclusiveMaximum": true},
          "size": {"type": "integer", "enum": [1, 2, 3]},
          "at": {"type": "string", "format": "date-time"},
          "code": {"oneOf": [{"type": "string", "pattern": "^[A-Z]+$"}, {"type": "string", "pattern": "^[0-9]+$"}, {"type": "integer"}]},
          "alias": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
          "color": {"type": "string", "not": {"enum": ["red"]}},
          "pet": {"$ref": "#/components/schemas/Pet"},
          "labels": {"type": "object", "additionalProperties": {"type": "string"}},
          "meta": {"type": "object", "additionalProperties": true, "properties": {"v": {"type": "integer"}}}
        }
      },
      "Pet": {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"type": "string"}},
        "discriminator": {"propertyName": "kind"}
      },
      "Cat": {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"type": "object", "properties": {"lives": {"type": "integer", "maximum": 9}}}]},
      "Closed": {"type": "object", "additionalProperties": false}
    }
  }
}`

func TestKeywords(t *testing.T) {
	spec, err := Parse([]byte(keywordsSpec))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		doc     string
		wantErr []string
	}{
		{name: "minimal", doc: `{"name":"a"}`},
		{
			name: "all fields",
			doc: `{"name":"abcde","note":null,"ratio":0.5,"size":2.0,"at":"2024-01-31T09:00:00+09:00","code":"ABC","alias":3,
				"color":"blue","pet":{"kind":"Cat","lives":9},"labels":{"a":"b"},"meta":{"v":1,"extra":true}}`,
			wantErr: []string{"/size: expected integer, got number"}, // 2.0 is not written as an integer
		},
		{name: "nullable", doc: `{"name":"a","note":null}`},
		{name: "not nullable", doc: `{"name":null}`, wantErr: []string{"/name: expected string, got null"}},
		{name: "maxLength", doc: `{"name":"abcdef"}`, wantErr: []string{"/name: length 6 is more than maxLength 5"}},
		{name: "exclusiveMaximum", doc: `{"name":"a","ratio":1}`, wantErr: []string{"/ratio: 1 is more than the maximum 1 (exclusive)"}},
		{name: "minimum", doc: `{"name":"a","ratio":-0.1}`, wantErr: []string{"/ratio: -0.1 is less than the minimum 0"}},
		{name: "integer enum", doc: `{"name":"a","size":4}`, wantErr: []string{"/size: 4 is not one of [1, 2, 3]"}},
		{name: "date-time", doc: `{"name":"a","at":"2024-01-31 09:00"}`, wantErr: []string{`/at: "2024-01-31 09:00" is not an RFC 3339 date-time`}},
		{name: "oneOf none", doc: `{"name":"a","code":"abc"}`, wantErr: []string{"/code: matches 0 of the 3 oneOf schemas"}},
		{name: "oneOf one", doc: `{"name":"a","code":12}`},
		{name: "anyOf none", doc: `{"name":"a","alias":true}`, wantErr: []string{"/alias: matches none of the 2 anyOf schemas"}},
		{name: "not", doc: `{"name":"a","color":"red"}`, wantErr: []string{"/color: must not match the schema in not"}},
		{name: "discriminator without mapping", doc: `{"name":"a","pet":{"kind":"Cat","lives":10}}`, wantErr: []string{"/pet/lives: 10 is more than the maximum 9"}},
		{name: "discriminator naming no schema", doc: `{"name":"a","pet":{"kind":"Dog"}}`, wantErr: []string{`/pet/kind: unknown value "Dog"; the value must name a schema in components/schemas`}},
		{name: "additionalProperties schema", doc: `{"name":"a","labels":{"a":1}}`, wantErr: []string{"/labels/a: expected string, got integer"}},
		{name: "unknown property", doc: `{"name":"a","nam":"b"}`, wantErr: []string{"/nam: unknown property"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, spec.ValidateSchema("Item", []byte(tt.doc)), tt.wantErr)
		})
	}
	checkErr(t, spec.ValidateSchema("Closed", []byte(`{"a":1}`)), []string{"/a: unknown property"})
	checkErr(t, spec.ValidateSchema("Closed", []byte(`{}`)), nil)

	// The request side: a mixed path segment, array and boolean query
	// parameters, a +json media type and no security.
	requests := []struct {
		name    string
		req     *http.Request
		body    string
		wantErr []string
	}{
		{
			name: "valid",
			req:  request("PUT", "/items/7.json?tags=ab&tags=cd&dry=true", "x", "X-Key", "k", "Content-Type", "application/merge-patch+json"),
			body: `{"name":"a"}`,
		},
		{
			name: "bad parameters",
			req:  request("PUT", "/items/0.json?tags=ab&tags=ab&tags=c&dry=yes", "x", "Content-Type", "application/merge-patch+json"),
			body: `{"name":"a"}`,
			wantErr: []string{
				"path id: 0 is less than the minimum 1",
				"query tags: items 0 and 1 are equal but uniqueItems is set",
				"query tags/2: length 1 is less than minLength 2",
				`query dry: expected boolean, got "yes"`,
				"header X-Key: missing required parameter",
			},
		},
		{
			name:    "plain JSON is not the declared media type",
			req:     request("PUT", "/items/7.json", "x", "X-Key", "k"),
			body:    `{"name":"a"}`,
			wantErr: []string{`header Content-Type: "application/json" is not declared; declared: application/merge-patch+json`},
		},
		{
			// The servers base path (/api/v1) is not part of the templates.
			name:    "base path",
			req:     request("PUT", "/api/v1/items/7.json", "x", "X-Key", "k"),
			body:    `{"name":"a"}`,
			wantErr: []string{"no operation PUT /api/v1/items/7.json"},
		},
	}
	for _, tt := range requests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, spec.ValidateRequest(tt.req, []byte(tt.body)), tt.wantErr)
		})
	}
}

// YAML reads unquoted dates as timestamps; they must still compare as the
// strings JSON documents hold.
func TestYAMLDates(t *testing.T) {
	spec, err := Parse([]byte("openapi: 3.0.0\ncomponents:\n  schemas:\n    Day:\n      type: string\n      enum: [2024-01-31]\n"))
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, spec.ValidateSchema("Day", []byte(`"2024-01-31"`)), nil)
	checkErr(t, spec.ValidateSchema("Day", []byte(`"2024-02-01"`)), []string{`(root): "2024-02-01" is not one of ["2024-01-31"]`})
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"not YAML", "openapi: [", "openapi: parse:"},
		{"not OpenAPI 3.0", `{"swagger": "2.0"}`, "not an OpenAPI 3.0 document"},
		{"dangling $ref", `{"openapi":"3.0.0","components":{"schemas":{"A":{"$ref":"#/components/schemas/B"}}}}`, `$ref "#/components/schemas/B" not found`},
		{"remote $ref", `{"openapi":"3.0.0","components":{"schemas":{"A":{"$ref":"other.yml#/B"}}}}`, "only local references"},
		{"bad pattern", `{"openapi":"3.0.0","components":{"schemas":{"A":{"type":"string","pattern":"("}}}}`, "#/components/schemas/A/pattern:"},
		{"bad type", `{"openapi":"3.0.0","components":{"schemas":{"A":{"type":"text"}}}}`, "unsupported type text"},
		{"unknown security scheme", `{"openapi":"3.0.0","security":[{"Key":[]}]}`, `unknown security scheme "Key"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func BenchmarkValidatePush(b *testing.B) {
	data, err := os.ReadFile(messagingSpec)
	if err != nil {
		b.Fatal(err)
	}
	spec, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(push(flex(validBubble)))
	r := request("POST", "/v2/bot/message/push", "x", "Authorization", authToken, "X-Line-Retry-Key", retryKey)
	for b.Loop() {
		if err := spec.ValidateRequest(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
