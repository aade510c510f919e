package slack

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// pathRecorder is a transport that records the paths it is asked for.
type pathRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (r *pathRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// TestPosterWithHTTPClient: the Poster's posts and uploads go through the
// client it is given.
func TestPosterWithHTTPClient(t *testing.T) {
	fake := newFakeSlack(t)
	rec := &pathRecorder{}
	p := NewPoster("xoxb-test", fake.URL+"/api/", WithHTTPClient(&http.Client{Transport: rec}))
	p.sleep = func(context.Context, time.Duration) error { return nil }
	p.now = func() time.Time { return clock }
	if _, err := p.Post(context.Background(), "C1", "", "", nil, "hello"); err != nil {
		t.Fatal(err)
	}
	img := Image{Name: "kpi-chart.png", Data: []byte("\x89PNG\r\n\x1a\n")}
	if err := p.Upload(context.Background(), "C1", "", nil, "chart", img); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, want := range []string{"/api/chat.postMessage", "/api/files.getUploadURLExternal", "/api/files.completeUploadExternal"} {
		if !slices.Contains(rec.paths, want) {
			t.Errorf("%s did not go through the client: %v", want, rec.paths)
		}
	}
}
