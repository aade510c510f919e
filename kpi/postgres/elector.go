package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultElectorName is the name of the scheduler's lock: every replica of
// one deployment uses it; another deployment on the same database takes
// another name.
const DefaultElectorName = "kpibot scheduler"

// ErrNotLeader is what IsLeader returns when this replica is not the leader.
var ErrNotLeader = errors.New("postgres: elector: not the leader")

// ElectorConfig is what an Elector works with.
type ElectorConfig struct {
	// Name names the lock; its key is LockKey(Name). "": DefaultElectorName.
	Name string
	// Interval is how often the lock is tried while another replica holds
	// it, and confirmed while this one does. 0: one second. A replica takes
	// over at most about 5 intervals after the leader's session ended.
	Interval time.Duration
	// Log gets the changes of leadership and the lost connections. nil: no
	// logs.
	Log *slog.Logger
}

// Elector elects one leader among the replicas that share a PostgreSQL
// database: the one whose session holds a session-level advisory lock,
// pg_try_advisory_lock(LockKey(name)), on a connection of its own (not a
// pool's, whose sessions are reused). It implements gocron v2's Elector.
//
// The lock is released by the server when the session ends: the leader's
// Close, its process's death, or its connection's loss, which the server
// notices in seconds (the session's TCP keepalives and user timeout are set
// low). The other replicas try the lock every Interval and one of them
// takes it.
//
// A leader does not know at once that its session has ended: it learns at
// its next confirmation. So that two replicas never lead at the same time,
// leadership is a lease. IsLeader says yes until lease (3 intervals) after
// the start of the last confirmation that the session still holds the
// lock, and a replica that takes the lock leads only grace (4 intervals)
// after it got it: by then the last leader's lease has run out, since the
// lock was freed after that leader's last confirmation began. (This holds
// while the replicas' clocks run at the same rate; their times of day do
// not matter.)
//
// It needs a real PostgreSQL session: not a connection pooler in
// transaction mode (PgBouncer's), where one server session serves several
// clients and an advisory lock is nobody's in particular.
type Elector struct {
	conf     *pgx.ConnConfig
	name     string
	key      int64
	interval time.Duration
	lease    time.Duration // how long a confirmation keeps this replica leading
	grace    time.Duration // how long after taking the lock it starts leading
	log      *slog.Logger
	now      func() time.Time

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once

	mu     sync.Mutex
	from   time.Time // leading from: the lock's taking plus grace
	until  time.Time // leading until: the last confirmation's start plus lease
	closed bool

	// Only the loop's goroutine uses these.
	conn    *pgx.Conn
	held    bool   // conn's session holds the lock
	leading bool   // what was last logged
	failing string // the last connection error logged, so that it is logged once
	tuned   bool   // the keepalive settings failed once and were logged
	fake    bool   // a lock not in pg_locks was logged
}

// LockKey is the advisory lock key of name: the first 8 bytes of its
// 64-bit FNV-1a hash. (Advisory locks are per database: deployments on
// different databases of one server never share a lock.)
func LockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// NewElector parses dsn, a postgres:// URL or key=value string, and starts
// trying for the lock in the background at once; Close stops. A replica
// that takes the lock leads a grace time (4 intervals) after. The DSN must
// reach PostgreSQL itself, not a transaction-mode pooler.
func NewElector(dsn string, c ElectorConfig) (*Elector, error) {
	conf, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors leave out the password.
		return nil, fmt.Errorf("postgres: elector: %w", err)
	}
	if c.Interval < 0 {
		return nil, fmt.Errorf("postgres: elector: interval %v: want a positive duration", c.Interval)
	}
	if _, ok := conf.RuntimeParams["application_name"]; !ok {
		conf.RuntimeParams["application_name"] = "kpibot elector"
	}
	name := cmp.Or(c.Name, DefaultElectorName)
	interval := cmp.Or(c.Interval, time.Second)
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	e := &Elector{
		conf:     conf,
		name:     name,
		key:      LockKey(name),
		interval: interval,
		lease:    3 * interval,
		grace:    4 * interval,
		log:      log.With("lock", name),
		now:      time.Now,
		stop:     stop,
		done:     make(chan struct{}),
	}
	go e.loop(ctx)
	return e, nil
}

// IsLeader returns nil while this replica leads, else an error that wraps
// ErrNotLeader. It does not wait for the database: gocron asks it before
// every job run.
func (e *Elector) IsLeader(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("%w: closed", ErrNotLeader)
	}
	if !e.leadingAt(e.now()) {
		return ErrNotLeader
	}
	return nil
}

// leadingAt reports whether the lease covers t. e.mu is held.
func (e *Elector) leadingAt(t time.Time) bool {
	return !e.from.IsZero() && !t.Before(e.from) && t.Before(e.until)
}

// Close stops leading, releases the lock and closes the connection; the
// other replicas take over. It waits for that, and may be called again.
func (e *Elector) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true // before the lock is released: never two leaders
		e.mu.Unlock()
		e.stop()
		<-e.done
	})
	return nil
}

// loop tries the lock, or confirms it, every interval until Close.
func (e *Elector) loop(ctx context.Context) {
	defer close(e.done)
	defer e.release()
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		e.step(ctx)
		e.logChange()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// step connects if need be, then tries the lock or confirms that the
// session still holds it. On any failure it closes the connection, which
// frees the lock on the server if the session still has it, and stops
// leading.
func (e *Elector) step(ctx context.Context) {
	qctx, cancel := context.WithTimeout(ctx, e.lease)
	defer cancel()
	if e.conn == nil {
		if err := e.connect(qctx); err != nil {
			if ctx.Err() == nil && err.Error() != e.failing {
				e.failing = err.Error()
				e.log.Warn("postgres: elector: cannot connect: following until it can", "err", err)
			}
			return
		}
		if e.failing != "" {
			e.failing = ""
			e.log.Info("postgres: elector: connected again")
		}
	}
	start := e.now()
	if e.held {
		held, err := e.confirm(qctx)
		switch {
		case err != nil:
			e.drop(ctx, "the connection failed", err)
		case !held:
			e.drop(ctx, "the session no longer holds the lock", nil)
		default:
			e.mu.Lock()
			e.until = start.Add(e.lease)
			e.mu.Unlock()
		}
		return
	}
	var got bool
	if err := e.conn.QueryRow(qctx, "SELECT pg_try_advisory_lock($1)", e.key).Scan(&got); err != nil {
		e.drop(ctx, "the connection failed", err)
		return
	}
	if !got {
		return
	}
	// A server that only pretends to lock (some PostgreSQL-compatible
	// engines) would make every replica a leader: check that the lock is
	// in pg_locks, as each confirmation will.
	held, err := e.confirm(qctx)
	if err != nil {
		e.drop(ctx, "the connection failed", err)
		return
	}
	if !held {
		// Said once, not every interval; the connection is closed, which
		// frees whatever the server did lock.
		if !e.fake {
			e.fake = true
			e.log.Error("postgres: elector: pg_try_advisory_lock said yes but pg_locks does not show the lock: this server cannot elect a leader")
		}
		e.disconnect()
		return
	}
	e.held = true
	took := e.now()
	e.mu.Lock()
	e.from, e.until = took.Add(e.grace), start.Add(e.lease)
	e.mu.Unlock()
	e.log.Info("postgres: elector: took the lock: leading after the grace time", "grace", e.grace.String())
}

// connect opens the connection and sets its keepalives, so that the server
// notices a vanished replica in seconds and frees its lock.
func (e *Elector) connect(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, e.conf.Copy())
	if err != nil {
		return err
	}
	// A silent client is dropped after idle + 3 probes; a client that does
	// not acknowledge what the server sent, after user_timeout.
	ka := max(time.Second, 2*e.interval).Round(time.Second)
	secs := strconv.Itoa(int(ka / time.Second))
	if _, err := conn.Exec(ctx, `SELECT set_config('tcp_keepalives_idle', $1, false), set_config('tcp_keepalives_interval', $1, false),
		set_config('tcp_keepalives_count', '3', false), set_config('tcp_user_timeout', $2, false)`,
		secs, strconv.Itoa(int(4*ka/time.Millisecond))); err != nil {
		if ctx.Err() != nil {
			conn.Close(context.Background())
			return err
		}
		if !e.tuned {
			e.tuned = true
			e.log.Warn("postgres: elector: cannot set the session's TCP keepalives: the server may take long to notice a lost leader", "err", err)
		}
	}
	e.conn = conn
	return nil
}

// confirm reports whether the session holds the lock.
func (e *Elector) confirm(ctx context.Context) (bool, error) {
	u := uint64(e.key)
	var held bool
	err := e.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
		AND granted AND classid::int8 = $1 AND objid::int8 = $2 AND objsubid = 1)`, int64(u>>32), int64(u&0xffffffff)).Scan(&held)
	return held, err
}

// drop stops leading and closes the connection, logging why unless Close
// is the reason.
func (e *Elector) drop(ctx context.Context, why string, err error) {
	if ctx.Err() == nil {
		if e.held {
			e.log.Warn("postgres: elector: lost the lock: "+why, "err", err)
		} else {
			e.log.Warn("postgres: elector: "+why, "err", err)
		}
	}
	e.disconnect()
}

// disconnect stops leading and closes the connection.
func (e *Elector) disconnect() {
	e.mu.Lock()
	e.from, e.until = time.Time{}, time.Time{}
	e.mu.Unlock()
	e.held = false
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	e.conn.Close(cctx)
	e.conn = nil
}

// release ends leadership and gives the lock back, at Close.
func (e *Elector) release() {
	e.mu.Lock()
	e.from, e.until = time.Time{}, time.Time{}
	e.mu.Unlock()
	if e.conn == nil {
		e.logChange()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.lease)
	defer cancel()
	if e.held {
		if _, err := e.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", e.key); err != nil {
			e.log.Warn("postgres: elector: cannot release the lock: it is freed as the connection closes", "err", err)
		}
	}
	e.held = false
	e.conn.Close(ctx)
	e.conn = nil
	e.logChange()
}

// logChange logs when this replica starts or stops leading.
func (e *Elector) logChange() {
	e.mu.Lock()
	closed := e.closed
	leading := !closed && e.leadingAt(e.now())
	e.mu.Unlock()
	if leading == e.leading {
		return
	}
	e.leading = leading
	switch {
	case leading:
		e.log.Info("postgres: elector: leading: this replica runs the scheduled jobs")
	case closed:
		e.log.Info("postgres: elector: closed: no longer leading")
	default:
		e.log.Info("postgres: elector: following: another replica runs the scheduled jobs")
	}
}
