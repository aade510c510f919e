package rakuten

import (
	"context"
	"time"
)

// Check makes the cheapest call that proves the credentials: searchOrder
// of the orders placed in the last hour, one page of order numbers (no
// order is read). RMS's refusal of the service secret or license key
// matches ErrKeyExpired.
func (c *Client) Check(ctx context.Context) error {
	end := c.c.Now()
	_, err := c.searchOrder(ctx, end.Add(-time.Hour), end, 1)
	return err
}
