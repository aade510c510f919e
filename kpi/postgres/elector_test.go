package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kpibot/kpibot/kpi/postgres/pgtest"
)

// gocron's Elector, which the scheduler takes.
var _ interface {
	IsLeader(context.Context) error
} = (*Elector)(nil)

const (
	interval = 100 * time.Millisecond // the tests' electors'
	takeover = 2 * time.Second        // the bound on a failover
)

// syncBuf is a log the test reads.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lockName is a lock of the test's own: advisory locks are per database,
// and the tests' schemas share one.
func lockName(t *testing.T) string {
	var b [6]byte
	rand.Read(b[:])
	return "kpibot test " + t.Name() + " " + hex.EncodeToString(b[:])
}

// replica is an elector and its log.
type replica struct {
	*Elector
	log *syncBuf
}

func newReplica(t *testing.T, dsn, name string) *replica {
	t.Helper()
	log := &syncBuf{}
	e, err := NewElector(dsn, ElectorConfig{Name: name, Interval: interval,
		Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return &replica{e, log}
}

func (r *replica) leads() bool { return r.IsLeader(context.Background()) == nil }

// leaders returns the indexes of rs that lead.
func leaders(rs []*replica) []int {
	var out []int
	for i, r := range rs {
		if r != nil && r.leads() {
			out = append(out, i)
		}
	}
	return out
}

// oneLeader waits up to within for exactly one of rs to lead, and returns it.
func oneLeader(t *testing.T, rs []*replica, within time.Duration) int {
	t.Helper()
	return newLeader(t, rs, -1, within)
}

// newLeader waits up to within for exactly one of rs to lead, not replica
// old (whose lease may not have run out yet), and returns it.
func newLeader(t *testing.T, rs []*replica, old int, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if l := leaders(rs); len(l) == 1 && l[0] != old {
			return l[0]
		} else if len(l) > 1 {
			t.Fatalf("replicas %v lead at once", l)
		}
		if time.Now().After(deadline) {
			var logs []string
			for i, r := range rs {
				if r != nil {
					logs = append(logs, fmt.Sprintf("replica %d:\n%s", i, r.log))
				}
			}
			t.Fatalf("no leader within %v; the logs:\n%s", within, strings.Join(logs, "\n"))
		}
		time.Sleep(time.Millisecond)
	}
}

// sampler looks at which replicas lead, all of them one after the other,
// again and again, until stopped; it counts the instants with two leaders.
type sampler struct {
	mu      sync.Mutex
	rs      []*replica
	samples atomic.Int64
	twice   atomic.Int64 // samples with more than one leader
	first   atomic.Value // the first such: a string
	stop    chan struct{}
	done    chan struct{}
}

func sample(rs []*replica) *sampler {
	s := &sampler{rs: rs, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			s.mu.Lock()
			l := leaders(s.rs)
			s.mu.Unlock()
			s.samples.Add(1)
			if len(l) > 1 {
				s.twice.Add(1)
				s.first.CompareAndSwap(nil, fmt.Sprintf("replicas %v at %v", l, time.Now().Format("15:04:05.000")))
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	return s
}

// replace puts r in place of replica i of rs, which the sampler was
// given.
func (s *sampler) replace(rs []*replica, i int, r *replica) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs[i] = r
}

func (s *sampler) end(t *testing.T) {
	t.Helper()
	close(s.stop)
	<-s.done
	if n := s.twice.Load(); n > 0 {
		t.Errorf("two leaders at once in %d of %d samples, first %v", n, s.samples.Load(), s.first.Load())
	}
	t.Logf("%d samples", s.samples.Load())
}

// backend returns the pid of the session that holds the lock of name.
func backend(t *testing.T, conn *pgx.Conn, name string) int32 {
	t.Helper()
	u := uint64(LockKey(name))
	var pid int32
	err := conn.QueryRow(context.Background(), `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid::int8 = $1 AND objid::int8 = $2 AND objsubid = 1`, int64(u>>32), int64(u&0xffffffff)).Scan(&pid)
	if err != nil {
		t.Fatalf("the lock's holder: %v", err)
	}
	return pid
}

// kill ends the session that holds the lock of name, as a crash of its
// replica, or a lost network, looks to the server.
func kill(t *testing.T, conn *pgx.Conn, name string) {
	t.Helper()
	var ok bool
	if err := conn.QueryRow(context.Background(), "SELECT pg_terminate_backend($1)", backend(t, conn, name)).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend: %v %v", ok, err)
	}
}

func admin(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Of two replicas one leads, and stays the leader; the other follows.
func TestElectorOneLeader(t *testing.T) {
	dsn, name := pgtest.DSN(t), lockName(t)
	rs := []*replica{newReplica(t, dsn, name), newReplica(t, dsn, name)}
	s := sample(rs)
	l := oneLeader(t, rs, takeover)
	for range 20 { // 2 s: 20 intervals
		time.Sleep(interval)
		if got := leaders(rs); len(got) != 1 || got[0] != l {
			t.Fatalf("leaders %v, want only %d", got, l)
		}
	}
	s.end(t)
	if err := rs[1-l].IsLeader(context.Background()); !errors.Is(err, ErrNotLeader) {
		t.Errorf("the follower's IsLeader: %v, want ErrNotLeader", err)
	}
	if !strings.Contains(rs[l].log.String(), "leading") {
		t.Errorf("the leader did not log its leadership:\n%s", rs[l].log)
	}
	if strings.Contains(rs[1-l].log.String(), "leading") {
		t.Errorf("the follower logged a leadership:\n%s", rs[1-l].log)
	}
	for _, r := range rs {
		if strings.Contains(r.log.String(), "cannot set") {
			t.Errorf("the keepalives were not set:\n%s", r.log)
		}
	}
	// The lock's session is the elector's own, named for pg_stat_activity.
	conn := admin(t, dsn)
	var app string
	if err := conn.QueryRow(context.Background(), "SELECT application_name FROM pg_stat_activity WHERE pid = $1",
		backend(t, conn, name)).Scan(&app); err != nil || app != "kpibot elector" {
		t.Errorf("the lock's session: application_name %q, %v", app, err)
	}
}

// Replicas of locks of two names both lead.
func TestElectorNamesApart(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := newReplica(t, dsn, lockName(t)), newReplica(t, dsn, lockName(t))
	oneLeader(t, []*replica{a}, takeover)
	oneLeader(t, []*replica{b}, takeover)
	if LockKey("kpibot scheduler") == LockKey("kpibot scheduler staging") {
		t.Error("two names, one key")
	}
	if LockKey("kpibot scheduler") != LockKey(DefaultElectorName) {
		t.Error("the default name changed")
	}
}

// When the leader's session ends on the server (pg_terminate_backend, as a
// crash looks), the other replica leads within the bound, never both at
// once; the old leader says it lost the lock, reconnects and follows.
func TestElectorFailover(t *testing.T) {
	dsn, name := pgtest.DSN(t), lockName(t)
	conn := admin(t, dsn)
	rs := []*replica{newReplica(t, dsn, name), newReplica(t, dsn, name)}
	s := sample(rs)
	l := oneLeader(t, rs, takeover)
	kill(t, conn, name)
	killed := time.Now()
	n := newLeader(t, rs, l, takeover)
	took := time.Since(killed)
	t.Logf("took over in %v", took)
	deadline := time.Now().Add(takeover)
	for !strings.Contains(rs[l].log.String(), "lost the lock") {
		if time.Now().After(deadline) {
			t.Fatalf("the old leader did not log its loss:\n%s", rs[l].log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(5 * interval)
	if got := leaders(rs); len(got) != 1 || got[0] != n {
		t.Fatalf("leaders %v, want only %d", got, n)
	}
	// The old leader is back on a session of its own, following: it takes
	// over when the new one goes.
	kill(t, conn, name)
	killed = time.Now()
	if got := newLeader(t, rs, n, takeover); got != l {
		t.Fatalf("replica %d leads, want the old leader %d back", got, l)
	}
	t.Logf("took back over in %v", time.Since(killed))
	s.end(t)
}

// Close releases the lock: the other replica leads within the bound, and
// the closed one never again.
func TestElectorClose(t *testing.T) {
	dsn, name := pgtest.DSN(t), lockName(t)
	rs := []*replica{newReplica(t, dsn, name), newReplica(t, dsn, name)}
	s := sample(rs)
	l := oneLeader(t, rs, takeover)
	if err := rs[l].Close(); err != nil {
		t.Fatal(err)
	}
	if err := rs[l].IsLeader(context.Background()); !errors.Is(err, ErrNotLeader) {
		t.Errorf("IsLeader after Close: %v", err)
	}
	if err := rs[l].Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	closed := time.Now()
	newLeader(t, rs, l, takeover)
	t.Logf("took over in %v", time.Since(closed))
	s.end(t)
}

// Three replicas over several rounds of the leader's crash or shutdown:
// each time another leads within the bound, and at no instant sampled do
// two lead.
func TestElectorThreeReplicas(t *testing.T) {
	dsn, name := pgtest.DSN(t), lockName(t)
	conn := admin(t, dsn)
	rs := []*replica{newReplica(t, dsn, name), newReplica(t, dsn, name), newReplica(t, dsn, name)}
	s := sample(rs) // rs is replaced in only through s, and read here
	l := oneLeader(t, rs, takeover)
	var worst time.Duration
	for round := range 6 {
		begin := time.Now()
		old := l // the replica that may lead a moment more, until its next look
		if round%2 == 0 {
			kill(t, conn, name) // the replica lives on, and follows
		} else {
			// A replica stopped and started again: the new one may win too.
			rs[l].Close()
			s.replace(rs, l, newReplica(t, dsn, name))
			old = -1
		}
		l = newLeader(t, rs, old, takeover)
		worst = max(worst, time.Since(begin))
		t.Logf("round %d: replica %d leads after %v", round, l, time.Since(begin))
		// Let the leader lead a while, and the others settle as followers.
		time.Sleep(5 * interval)
		if got := leaders(rs); len(got) != 1 || got[0] != l {
			t.Fatalf("round %d: leaders %v, want only %d", round, got, l)
		}
	}
	s.end(t)
	t.Logf("the slowest takeover: %v", worst)
}

// Without a server it follows, logs why once, and closes promptly; a DSN
// that cannot be read is an error that does not show its password.
func TestElectorNoServer(t *testing.T) {
	log := &syncBuf{}
	e, err := NewElector("postgres://kpibot:secret-pw@127.0.0.1:1/kpibot?connect_timeout=1",
		ElectorConfig{Interval: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := e.IsLeader(context.Background()); !errors.Is(err, ErrNotLeader) {
		t.Errorf("IsLeader without a server: %v", err)
	}
	begin := time.Now()
	e.Close()
	if took := time.Since(begin); took > time.Second {
		t.Errorf("Close took %v", took)
	}
	if n := strings.Count(log.String(), "cannot connect"); n != 1 {
		t.Errorf("logged %d connection failures, want 1:\n%s", n, log)
	}
	if strings.Contains(log.String(), "secret-pw") {
		t.Errorf("the log shows the password:\n%s", log)
	}
	_, err = NewElector("postgres://kpibot:secret-pw@127.0.0.1:port/kpibot", ElectorConfig{})
	if err == nil || strings.Contains(err.Error(), "secret-pw") {
		t.Errorf("a bad DSN: %v", err)
	}
	if _, err := NewElector("postgres://127.0.0.1/kpibot", ElectorConfig{Interval: -time.Second}); err == nil {
		t.Error("a negative interval: no error")
	}
}
