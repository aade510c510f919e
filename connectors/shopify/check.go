package shopify

import "context"

// shopQuery is the cheapest Admin GraphQL query: the shop's name (cost 1).
const shopQuery = `query { shop { name } }`

// ShopName asks Shopify for the shop's name: the cheapest query that
// proves the access token. A refused token or scope is an *APIError that
// is Unauthorized.
func (c *Client) ShopName(ctx context.Context) (string, error) {
	var out struct {
		Shop struct {
			Name string `json:"name"`
		} `json:"shop"`
	}
	if err := c.query(ctx, "shop", shopQuery, nil, &out); err != nil {
		return "", err
	}
	return out.Shop.Name, nil
}
