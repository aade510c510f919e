package rakutentest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// sample is a getOrder OrderModel as RMS documents it (version 10), with
// an orderer, a receiver and a card owner whose personal data a
// connector must not keep.
//
//go:embed order.json
var sample []byte

// Order is one order of the fake as getOrder's OrderModel JSON object.
type Order map[string]any

// sampleOrder is sample, decoded once.
var sampleOrder = sync.OnceValue(func() Order {
	var o Order
	if err := json.Unmarshal(sample, &o); err != nil {
		panic(fmt.Sprintf("rakutentest: sample order: %v", err))
	}
	return o
})

// Sample returns a copy of the sample order: awaiting shipment (300), one
// destination with 2 units, not shipped yet.
func Sample() Order { return sampleOrder().Clone() }

// NewOrder returns a copy of the sample order numbered number and placed
// at placed.
func NewOrder(number string, placed time.Time) Order {
	o := Sample()
	o.Set(number, "orderNumber")
	o.Set(Time(placed), "orderDatetime")
	return o
}

// Time formats t as RMS writes a date and time, in JST.
func Time(t time.Time) string { return t.In(jst).Format("2006-01-02T15:04:05-0700") }

// Date formats t's day in JST as RMS writes a date.
func Date(t time.Time) string { return t.In(jst).Format(time.DateOnly) }

var jst = time.FixedZone("JST", 9*60*60)

// Clone returns a deep copy of o, to be edited without touching o.
func (o Order) Clone() Order { return Order(deepCopy(map[string]any(o)).(map[string]any)) }

// deepCopy copies the objects and arrays of a JSON value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deepCopy(e)
		}
		return c
	case Order:
		return deepCopy(map[string]any(v))
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopy(e)
		}
		return c
	}
	return v // a string, number, bool or nil; or a value a test set, used as is
}

// Set sets the value at path (object keys, or indexes of arrays, as
// strings) to v, creating the objects on the way; an index one past an
// array's end appends to it.
func (o Order) Set(v any, path ...string) {
	var parent any
	var parentKey string
	var cur any = map[string]any(o)
	for i, key := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[key] = v
				return
			}
			if c[key] == nil {
				c[key] = map[string]any{}
			}
			parent, parentKey, cur = c, key, c[key]
		case []any:
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n > len(c) {
				panic(fmt.Sprintf("rakutentest: set %v: no element %q", path, key))
			}
			if n == len(c) { // append, and put the longer array in place
				m, ok := parent.(map[string]any)
				if !ok {
					panic(fmt.Sprintf("rakutentest: set %v: cannot append to %q", path, key))
				}
				c = append(c, map[string]any{})
				m[parentKey] = c
			}
			if last {
				c[n] = v
				return
			}
			parent, parentKey, cur = nil, "", c[n]
		default:
			panic(fmt.Sprintf("rakutentest: set %v: %q is not an object or an array", path, key))
		}
	}
}

// number and placed read an order's number and order date.
func (o Order) number() string {
	s, _ := o["orderNumber"].(string)
	return s
}

func (o Order) placed() (time.Time, error) {
	s, _ := o["orderDatetime"].(string)
	return time.Parse("2006-01-02T15:04:05-0700", s)
}
