package yahoo

import (
	"context"
	"time"
)

// Check makes the cheapest call that proves the access token and the
// public key: orderList of at most one order placed in the last hour, its
// id and times only. A refused token is an *APIError that is
// Unauthorized, a refused signature one that is SignatureRefused.
func (c *Client) Check(ctx context.Context) error {
	to := c.c.Now()
	req := listRequest{
		Search: listSearch{
			Result:    1,
			Start:     1,
			Sort:      "+order_time",
			Condition: listCondition{OrderTimeFrom: conditionTime(to.Add(-time.Hour)), OrderTimeTo: conditionTime(to)},
			Field:     listFields,
		},
		SellerID: c.c.SellerID,
	}
	var res listAnswer
	return c.post(ctx, "orderList", req, &res)
}
