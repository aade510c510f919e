package shopify

import (
	"context"
	"encoding/json"
)

// ProbeForTest runs query with c as the connector runs its own, and
// returns the answer's data: a test asks the fake what the connector
// never does.
func ProbeForTest(ctx context.Context, c *Client, query string, vars map[string]any) (string, error) {
	var data json.RawMessage
	err := c.query(ctx, "probe", query, vars, &data)
	return string(data), err
}
