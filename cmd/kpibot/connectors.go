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
	"github.com/kpibot/kpibot/connectors/rakuten"
	"github.com/kpibot/kpibot/connectors/shopify"
	"github.com/kpibot/kpibot/connectors/yahoo"
	"github.com/kpibot/kpibot/kpi"
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
func newConnectors(e env, s configSettings, store kpiStore, only string, log *slog.Logger) ([]connector, error) {
	var out []connector
	var missing []string
	for _, sh := range s.shops {
		if only != "" && sh.shop.ID != only {
			continue
		}
		build := connectorBuilder(sh)
		if build == nil {
			continue
		}
		c, miss, err := build(e, sh, store, log)
		if err != nil {
			return nil, err
		}
		missing = append(missing, miss...)
		if len(miss) == 0 {
			out = append(out, c)
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
func newAmazon(e env, sh shopSettings, store kpiStore, log *slog.Logger) (c connector, missing []string, err error) {
	a := sh.amazon
	need := needEnv(e, &missing)
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
		TokenURL: a.TokenURL, Now: e.now, Sleep: e.sleep, Log: log.With("shop", sh.shop.ID)})
	if err != nil {
		return connector{}, nil, fmt.Errorf("shop %s: %w", sh.shop.ID, err)
	}
	syncer := &amazon.Syncer{Client: client, Shop: sh.shop, Store: store, Now: e.now, Log: log}
	if a.AdsProfileID != "" {
		adsCreds := creds
		adsCreds.RefreshToken = adsToken
		ads, err := amazon.NewAdsClient(amazon.AdsConfig{Credentials: adsCreds, ProfileID: a.AdsProfileID, Endpoint: a.AdsEndpoint,
			TokenURL: a.TokenURL, Now: e.now, Sleep: e.sleep, Log: log.With("shop", sh.shop.ID)})
		if err != nil {
			return connector{}, nil, fmt.Errorf("shop %s: %w", sh.shop.ID, err)
		}
		syncer.Ads = ads
	}
	return connector{shop: sh.shop, every: sh.every, run: syncer.Run}, nil, nil
}

// connectorSyncs writes the configured shops to the store and returns
// their connectors as the scheduler's syncs.
func connectorSyncs(ctx context.Context, e env, s configSettings, store kpiStore, log *slog.Logger) ([]schedule.Sync, error) {
	return observedSyncs(ctx, e, s, store, log, nil)
}

// syncObserver gives, for a shop, what to call with the result of each of
// its pulls (serve's metrics); nil: nothing is.
type syncObserver func(shop string) func(progress []kpi.SyncProgress, err error)

// observedSyncs is connectorSyncs, each pull's result handed to observe.
func observedSyncs(ctx context.Context, e env, s configSettings, store kpiStore, log *slog.Logger, observe syncObserver) ([]schedule.Sync, error) {
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
		done := func([]kpi.SyncProgress, error) {}
		if observe != nil {
			done = observe(c.shop.ID)
		}
		syncs = append(syncs, schedule.Sync{Name: c.shop.ID, Every: c.every, Run: func(ctx context.Context) error {
			progress, err := c.run(ctx)
			done(progress, err)
			return err
		}})
	}
	return syncs, nil
}

// needEnv returns a function that reads an environment variable and adds
// its name to missing when it is not set.
func needEnv(e env, missing *[]string) func(name string) string {
	return func(name string) string {
		v := e.getenv(name)
		if v == "" && !slices.Contains(*missing, name) {
			*missing = append(*missing, name)
		}
		return v
	}
}

// newRakuten builds a Rakuten shop's connector (RMS); missing lists the
// environment variables it needs that are not set.
func newRakuten(e env, sh shopSettings, store kpiStore, log *slog.Logger) (c connector, missing []string, err error) {
	r := sh.rakuten
	need := needEnv(e, &missing)
	secret := need(cmp.Or(r.ServiceSecretEnv, "RAKUTEN_SERVICE_SECRET"))
	key := need(cmp.Or(r.LicenseKeyEnv, "RAKUTEN_LICENSE_KEY"))
	if len(missing) > 0 {
		return connector{}, missing, nil
	}
	client, err := rakuten.NewClient(rakuten.Config{ServiceSecret: secret, LicenseKey: key, Endpoint: r.Endpoint, Now: e.now,
		Sleep: e.sleep, Log: log.With("shop", sh.shop.ID)})
	if err != nil {
		return connector{}, nil, fmt.Errorf("shop %s: %w", sh.shop.ID, err)
	}
	syncer := &rakuten.Syncer{Client: client, Shop: sh.shop, Store: store, Now: e.now, Log: log}
	return connector{shop: sh.shop, every: sh.every, run: syncer.Run}, nil, nil
}

// newShopify builds a Shopify store's connector (Admin GraphQL); missing
// lists the environment variables it needs that are not set.
func newShopify(e env, sh shopSettings, store kpiStore, log *slog.Logger) (c connector, missing []string, err error) {
	sp := sh.shopify
	need := needEnv(e, &missing)
	token := need(cmp.Or(sp.TokenEnv, "SHOPIFY_ACCESS_TOKEN"))
	if len(missing) > 0 {
		return connector{}, missing, nil
	}
	client, err := shopify.NewClient(shopify.Config{Store: sp.Store, AccessToken: token, APIVersion: sp.APIVersion, Endpoint: sp.Endpoint,
		Now: e.now, Sleep: e.sleep, Log: log.With("shop", sh.shop.ID)})
	if err != nil {
		return connector{}, nil, fmt.Errorf("shop %s: %w", sh.shop.ID, err)
	}
	syncer := &shopify.Syncer{Client: client, Shop: sh.shop, Store: store, Now: e.now, Log: log}
	return connector{shop: sh.shop, every: sh.every, run: syncer.Run}, nil, nil
}

// newYahoo builds a Yahoo! Shopping store's connector; missing lists the
// environment variables it needs that are not set.
func newYahoo(e env, sh shopSettings, store kpiStore, log *slog.Logger) (c connector, missing []string, err error) {
	y := sh.yahoo
	need := needEnv(e, &missing)
	token := need(cmp.Or(y.TokenEnv, "YAHOO_ACCESS_TOKEN"))
	key := need(cmp.Or(y.PublicKeyEnv, "YAHOO_PUBLIC_KEY"))
	if len(missing) > 0 {
		return connector{}, missing, nil
	}
	client, err := yahoo.NewClient(yahoo.Config{SellerID: y.SellerID, AccessToken: token, PublicKey: key, KeyVersion: cmp.Or(y.KeyVersion, "1"),
		Endpoint: y.Endpoint, Now: e.now, Sleep: e.sleep, Log: log.With("shop", sh.shop.ID)})
	if err != nil {
		return connector{}, nil, fmt.Errorf("shop %s: %w", sh.shop.ID, err)
	}
	syncer := &yahoo.Syncer{Client: client, Shop: sh.shop, Store: store, Now: e.now, Log: log}
	return connector{shop: sh.shop, every: sh.every, run: syncer.Run}, nil, nil
}

// connectorBuilder returns the constructor of a shop's connector; nil when
// it has none (its data comes by kpibot import).
func connectorBuilder(sh shopSettings) func(env, shopSettings, kpiStore, *slog.Logger) (connector, []string, error) {
	switch {
	case sh.amazon != nil:
		return newAmazon
	case sh.rakuten != nil:
		return newRakuten
	case sh.yahoo != nil:
		return newYahoo
	case sh.shopify != nil:
		return newShopify
	}
	return nil
}
