package sqlstore

import (
	"errors"

	"github.com/kpibot/kpibot/kpi"
)

// Options are what a store's Open takes besides where the data is.
type Options struct {
	Hours       kpi.BusinessHours // what rollups are built with
	Fingerprint string            // names Hours; kept with the rollups
}

// An Option configures a store at Open.
type Option func(*Options)

// DefaultHours is the fingerprint of kpi.DefaultHours; migration 0006 names
// it as the hours of the rollups stored before it.
const DefaultHours = "kpi.DefaultHours"

// WithHours makes a store build its rollups with hours, named fingerprint.
func WithHours(hours kpi.BusinessHours, fingerprint string) Option {
	return func(o *Options) { o.Hours, o.Fingerprint = hours, fingerprint }
}

// OpenOptions applies opts to the defaults: kpi.DefaultHours.
func OpenOptions(opts []Option) (Options, error) {
	o := Options{Hours: kpi.DefaultHours, Fingerprint: DefaultHours}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Fingerprint == "" {
		return o, errors.New("WithHours needs a fingerprint")
	}
	return o, nil
}
