package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/kpibot/kpibot/bot/schedule"
	"github.com/kpibot/kpibot/connectors/amazon"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
)

// connector is a configured shop's pull: the one place that builds the
// connectors from the config file and the environment.
type connector struct {
	shop  kpi.Shop
	every time.Duration
	run   func(ctx context.Context) ([]kpi.SyncProgress, error)
}

// newConnectors builds the connectors of the configured shops (only the
// one with id only, if it is not ""), reading their secrets from the
// environment. A shop without a connector of its platform yet is left out;
// a missing secret is an error that names the variable, never its value.
func newConnectors(e env, s configSettings, store *sqlite.Store, only string, log *slog.Logger) ([]connector, error) {
	var out []connector
	var missing []string
	for _, sh := range s.shops {
		if only != "" && sh.shop.ID != only {
			continue
		}
		switch {
		case sh.amazon != nil:
			c, miss, err := newAmazon(e, sh, store, log)
			if err != nil {
				return nil, err
			}
			missing = append(missing, miss...)
			if len(miss) == 0 {
				out = append(out, c)
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", errSecretsMissing, strings.Join(missing, ", "))
	}
	return out, nil
}

// errSecretsMissing says that environment variables with secrets are not
// set.
var errSecretsMissing = fmt.Errorf("not set in the environment")

// newAmazon builds an Amazon shop's connector; missing lists the
// environment variables it needs that are not set.
func newAmazon(e env, sh shopSettings, store *sqlite.Store, log *slog.Logger) (c connector, missing []string, err error) {
	a := sh.amazon
	need := func(name string) string {
		v := e.getenv(name)
		if v == "" && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return v
	}
	creds := amazon.Credentials{
		ClientID:     need("AMAZON_LWA_CLIENT_ID"),
		ClientSecret: need("AMAZON_LWA_CLIENT_SECRET"),
		RefreshToken: need(cmp.Or(a.RefreshTokenEnv, "AMAZON_REFRESH_TOKEN")),
	}
	var adsToken string
	if a.AdsProfileID != "" {
		adsToken = need(cmp.Or(a.AdsRefreshTokenEnv, a.RefreshTokenEnv, "AMAZON_REFRESH_TOKEN"))
	}
	if len(missing) > 0 {
		return connector{}, missing, nil
	}
	client, err := amazon.NewClient(amazon.Config{Credentials: creds, Marketplace: sh.shop.Marketplace, Endpoint: a.Endpoint,
		TokenURL: a.TokenURL, Now: e.now, Sleep: e.sleep, Log: log})
	if err != nil {
		return connector{}, nil, fmt.Errorf("shop %s: %w", sh.shop.ID, err)
	}
	syncer := &amazon.Syncer{Client: client, Shop: sh.shop, Store: store, Now: e.now, Log: log}
	if a.AdsProfileID != "" {
		adsCreds := creds
		adsCreds.RefreshToken = adsToken
		ads, err := amazon.NewAdsClient(amazon.AdsConfig{Credentials: adsCreds, ProfileID: a.AdsProfileID, Endpoint: a.AdsEndpoint,
			TokenURL: a.TokenURL, Now: e.now, Sleep: e.sleep, Log: log})
		if err != nil {
			return connector{}, nil, fmt.Errorf("shop %s: %w", sh.shop.ID, err)
		}
		syncer.Ads = ads
	}
	return connector{shop: sh.shop, every: sh.every, run: syncer.Run}, nil, nil
}

// connectorSyncs writes the configured shops to the store and returns
// their connectors as the scheduler's syncs.
func connectorSyncs(ctx context.Context, e env, s configSettings, store *sqlite.Store, log *slog.Logger) ([]schedule.Sync, error) {
	if len(s.shops) == 0 {
		return nil, nil
	}
	conns, err := newConnectors(e, s, store, "", log)
	if err != nil {
		return nil, err
	}
	shops := make([]kpi.Shop, len(s.shops))
	for i, sh := range s.shops {
		shops[i] = sh.shop
	}
	if _, err := store.Write(ctx, &kpi.Batch{Shops: shops}); err != nil {
		return nil, err
	}
	var syncs []schedule.Sync
	for _, c := range conns {
		syncs = append(syncs, schedule.Sync{Name: c.shop.ID, Every: c.every, Run: func(ctx context.Context) error {
			_, err := c.run(ctx)
			return err
		}})
	}
	return syncs, nil
}
