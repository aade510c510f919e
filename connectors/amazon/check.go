package amazon

import (
	"context"
	"errors"
)

// CheckToken exchanges the refresh token for an access token at Login with
// Amazon, as every call does first, and keeps it for the calls that
// follow. Login with Amazon's refusal is an *APIError of op "token" whose
// Code says which credential it refused: invalid_grant (the refresh token)
// or invalid_client (the client id or secret).
func (c *Client) CheckToken(ctx context.Context) error {
	_, err := c.accessToken(ctx)
	return err
}

// TokenRefused tells, of CheckToken's error, which credential Login with
// Amazon refused: "refresh_token" (invalid_grant: revoked, expired, or of
// another app), "client" (invalid_client: the app's id or secret), or ""
// when it refused none (a network failure, an outage).
func TokenRefused(err error) string {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Op != "token" {
		return ""
	}
	switch {
	case ae.Code == "invalid_grant":
		return "refresh_token"
	case ae.Code == "invalid_client" || ae.Code == "unauthorized_client" || ae.Code == "" && ae.Status == 401:
		return "client"
	case ae.Code == "" && ae.Status == 400:
		return "refresh_token"
	}
	return ""
}
