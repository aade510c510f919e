package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jonboulle/clockwork"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/line"
	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/bot/slack"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/postgres"
	"github.com/kpibot/kpibot/kpi/postgres/pgtest"
)

// replicaDay is the day of TestReplicasFailover: Friday 2026-11-27, a
// business day, so that the alerts' warnings go out at 09:00 with the
// digests rather than on Monday.
var replicaDay = kpi.NewDate(2026, 11, 27)

// caughtAfter is how many messages of a platform a leader gets out before
// the one it dies sending.
const caughtAfter = 4

// electorInterval is the replicas' election interval: a new leader leads
// about 5 of them after the last one died.
const electorInterval = 250 * time.Millisecond

// Three replicas of kpibot serve share one PostgreSQL. The leader is killed
// in the middle of the day's 09:00 sends, then the replica that took over
// in the middle of what was left, and the last one standing sends the
// rest: every digest and alert of the day reaches its chat exactly once.
//
// What "exactly once" can mean. A message is an outbox row under a key
// (digest:DAY:platform:chat, alert:IDS:open:platform:chat), enqueued once
// whoever enqueues it, claimed by one sender at a time (FOR UPDATE SKIP
// LOCKED, with a 2-minute lease renewed while it sends), and marked sent
// once the platform took it. The rows a dead sender claimed go to the next leader when the lease
// is over. The next leader sends again a message the platform took from a
// sender that died before marking it:
//   - LINE takes it once: a push carries an X-Line-Retry-Key derived from
//     the chat and the outbox key, the same from any replica, and LINE
//     answers the second push 409, which kpibot counts as sent. LINE's
//     pushes are marked when the whole batch is out, and need not be
//     sooner: they are exactly once however the sender dies. (Not when a
//     short monthly quota makes the pusher combine a chat's pushes: such a
//     request's key names the pushes it carries, which another leader's
//     batch may group otherwise.)
//   - Slack takes no such key, so a Slack message is marked sent as soon
//     as Slack took it (schedule.EachSender). It is exactly once unless the
//     sender dies between Slack taking a message and the outbox marking
//     it — a window of one database write, which no sender can close
//     without the platform's help — or Slack's answer is lost on the way
//     and the poster tries again: then that message is posted twice.
//
// So the first leader is killed in its LINE batch (LINE's platform comes
// first), with five pushes taken by LINE and none marked, the last one's
// answer lost on the way back: the worst a crash can do on LINE. The
// second is killed in its Slack batch, after four posts Slack took and
// during the fifth, which never reaches Slack: the most a crash can do on
// Slack short of that one write. The test asserts exactly once for every
// message on both.
//
// A kill is a crash, in process: the leader's ways to the chat platforms
// (a gate in front of the fakes) and to PostgreSQL (a TCP proxy) are cut,
// what is left of its sessions is ended with pg_terminate_backend, and
// only then is its context cancelled, so that nothing its shutdown tries
// can send or mark anything. The replicas share a fake clock, set to 08:59
// and moved to 09:00, then past each dead leader's lease; the election
// runs on the real clock.
func TestReplicasFailover(t *testing.T) {
	dsn := pgtest.DSN(t) // skips without KPIBOT_TEST_POSTGRES
	ctx := context.Background()
	began := time.Now()
	channels := replicaChannels()
	seedReplicas(t, dsn, replicaDay.Start().Add(8*time.Hour+55*time.Minute), channels)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })

	clock := clockwork.NewFakeClockAt(replicaDay.Start().Add(8*time.Hour + 59*time.Minute))
	lineAPI := linetest.NewServer(t)
	slackAPI := newFakeSlackAPI(t)
	trip := &tripwire{}
	tag := randomSuffix()
	replicas := make([]*replica, 3)
	for i := range replicas {
		replicas[i] = startReplica(t, i, dsn, tag, clock, lineAPI.URL, slackAPI.URL, trip)
	}
	seeded := time.Now()

	// A leader is elected. At 09:00 it renders the digests and sends them
	// with the alerts, LINE's first; LINE takes its fifth push, but the
	// answer never comes back.
	first := waitForLeader(t, replicas)
	lineTrap := trip.arm(false, caughtAfter, true)
	clock.Advance(time.Minute)
	dead1 := lineTrap.wait(t, clock, replicas)
	if dead1 != first {
		t.Fatalf("replica %d sent, but replica %d was elected", dead1, first)
	}
	z1 := replicas[dead1]
	accepted := z1.gate.pushes(http.StatusOK)
	if len(accepted) != caughtAfter+1 {
		t.Fatalf("the leader had %d pushes taken by LINE, want %d", len(accepted), caughtAfter+1)
	}
	z1.kill(t, admin)
	rows := outboxRows(t, admin)
	claimed := 0
	for _, r := range rows {
		if r.sent || r.attempts != 0 {
			t.Errorf("%s was marked (sent %v, %d attempts) by the leader that died sending it", r.key, r.sent, r.attempts)
		}
		if r.nextTry > clock.Now().Unix() {
			claimed++
		}
	}
	if claimed < len(accepted) {
		t.Fatalf("%d outbox rows claimed by the dead leader, want its batch: at least the %d pushes LINE took", claimed, len(accepted))
	}
	killed1 := time.Now()

	// Another replica leads. Once the dead leader's lease is over, it sends
	// what was left: LINE's taken pushes again, refused as taken, the other
	// pushes, then Slack's, and dies sending the fifth.
	second := waitForLeader(t, replicas, dead1)
	slackTrap := trip.arm(true, caughtAfter, false)
	clock.Advance(10*time.Minute + 30*time.Second)
	dead2 := slackTrap.wait(t, clock, replicas)
	if dead2 != second {
		t.Fatalf("replica %d sent, but replica %d was elected", dead2, second)
	}
	z2 := replicas[dead2]
	z2.kill(t, admin)
	slackSent := 0
	for _, r := range outboxRows(t, admin) {
		switch {
		case r.platform == line.Platform && !r.sent:
			t.Errorf("%s was not marked sent by the leader that sent LINE's batch", r.key)
		case r.platform == "slack" && r.sent:
			slackSent++
		case r.platform == "slack" && r.attempts != 0:
			t.Errorf("%s was marked failed by the leader that died sending it", r.key)
		}
	}
	if posted := z2.gate.posts(); slackSent != caughtAfter || posted != caughtAfter {
		t.Errorf("the second leader got %d messages out to Slack and %d were marked sent; want %d and %d: each marked as it went",
			posted, slackSent, caughtAfter, caughtAfter)
	}
	killed2 := time.Now()

	// The last replica leads and, once that lease is over too, sends the
	// rest.
	last := waitForLeader(t, replicas, dead1, dead2)
	clock.Advance(10*time.Minute + 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for nudged := time.Now(); pending(t, admin) > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still pending 30 s after the second failover:\n%s", pending(t, admin), logs(replicas))
		}
		if time.Since(nudged) > 10*time.Second {
			nudged = time.Now()
			clock.Advance(30 * time.Second) // a tick, should a send have failed and be due again
		}
	}
	done := time.Now()

	// Every message of the day, as the outbox knows it: a digest for each
	// channel, the alerts the demo raised; all sent.
	rows = outboxRows(t, admin)
	var digests, alerts, lineKeys []string
	for _, r := range rows {
		switch {
		case strings.HasPrefix(r.key, "digest:"):
			digests = append(digests, r.key)
		case strings.HasPrefix(r.key, "alert:"):
			alerts = append(alerts, r.key)
		default:
			t.Errorf("an outbox message that is neither a digest nor an alert: %s", r.key)
		}
		if r.platform == line.Platform {
			lineKeys = append(lineKeys, r.key)
		}
	}
	var wantDigests []string
	for _, ch := range channels {
		wantDigests = append(wantDigests, fmt.Sprintf("digest:%s:%s:%s", replicaDay, ch.Platform, ch.ID))
	}
	sameKeys(t, "the day's digests", digests, wantDigests)
	checkAlertsAnnounced(t, dsn, alerts)
	slackKeys := len(rows) - len(lineKeys)

	// LINE took each of its messages once, by retry key.
	byRetryKey := map[string]string{}
	for _, r := range rows {
		if r.platform == line.Platform {
			byRetryKey[line.RetryKey("push:"+r.channel+":"+r.key)] = r.key
		}
	}
	var linePushed []string
	for _, s := range lineAPI.Sent() {
		key, ok := byRetryKey[s.RetryKey]
		if s.Op != "pushMessage" || !ok {
			t.Errorf("LINE got a message that is no outbox message: %s to %s, retry key %q", s.Op, s.To, s.RetryKey)
			continue
		}
		linePushed = append(linePushed, key)
	}
	sameKeys(t, "the messages LINE took", linePushed, lineKeys)

	// Slack took each of its messages once: the digests with their charts
	// as uploads, the alerts as posts, told apart by channel and text.
	type slackMsg struct{ channel, text string }
	wantSlack := map[slackMsg][]string{}
	for _, r := range rows {
		if r.platform != "slack" {
			continue
		}
		_, reply, err := bot.DecodeOutgoing(r.payload)
		if err != nil {
			t.Fatal(err)
		}
		m := slackMsg{r.channel, slack.FallbackText(reply)}
		wantSlack[m] = append(wantSlack[m], r.key)
	}
	gotSlack := map[slackMsg]int{}
	slackAPI.mu.Lock()
	for _, p := range slackAPI.posts {
		gotSlack[slackMsg{p.Get("channel"), p.Get("text")}]++
	}
	slackAPI.mu.Unlock()
	for _, u := range slackAPI.files.Uploads() {
		gotSlack[slackMsg{u.Channel, u.AltText}]++ // the fallback text, short enough to be whole
	}
	for m, n := range gotSlack {
		if len(wantSlack[m]) != n {
			t.Errorf("Slack took %d messages %q in %s, want %d (%q)", n, m.text, m.channel, len(wantSlack[m]), wantSlack[m])
		}
	}
	for m, keys := range wantSlack {
		if gotSlack[m] == 0 {
			t.Errorf("Slack never got %q in %s (%q)", m.text, m.channel, keys)
		}
	}

	// Who sent what: the first dead leader its five pushes and nothing
	// after; the second those five again, which LINE refused as taken, the
	// other pushes and four Slack messages, and nothing after; the last
	// the other Slack messages.
	for _, z := range []*replica{z1, z2} {
		if late := z.gate.lateCalls(); len(late) > 0 {
			t.Errorf("replica %d tried %q after it was killed", z.i, late)
		}
	}
	if got := z1.gate.pushes(0); !slices.Equal(got, accepted) || z1.gate.posts() != 0 {
		t.Errorf("the first dead leader pushed %q and posted %d, want the %q it pushed before it died", got, z1.gate.posts(), accepted)
	}
	if again := z2.gate.pushes(http.StatusConflict); !sameSet(again, accepted) {
		t.Errorf("the second leader pushed %q again and LINE refused them as taken, want the first's %q", again, accepted)
	}
	if n := len(z2.gate.pushes(http.StatusOK)); n != len(lineKeys)-len(accepted) {
		t.Errorf("the second leader had %d pushes taken, want the %d the first did not get out", n, len(lineKeys)-len(accepted))
	}
	if n := replicas[last].gate.posts(); n != slackKeys-caughtAfter || len(replicas[last].gate.pushes(0)) != 0 {
		t.Errorf("the last leader got %d Slack messages out and made %d pushes, want %d and none",
			n, len(replicas[last].gate.pushes(0)), slackKeys-caughtAfter)
	}
	t.Logf("%d digests and %d alert messages, %d on LINE and %d on Slack: replica %d died with %d of %d messages "+
		"claimed, %d taken by LINE and not marked; replica %d sent those again (LINE: 409) with the rest of LINE's, and died in Slack's "+
		"after %d; replica %d sent the rest. Seeding %v, start to first kill %v, to second kill %v, to all sent %v",
		len(digests), len(alerts), len(lineKeys), slackKeys, dead1, claimed, len(rows), len(accepted), dead2, caughtAfter, last,
		seeded.Sub(began).Round(time.Millisecond), killed1.Sub(seeded).Round(time.Millisecond),
		killed2.Sub(killed1).Round(time.Millisecond), done.Sub(killed2).Round(time.Millisecond))
}

// replicaChannels are the chats of TestReplicasFailover: on LINE and on
// Slack, an hq chat, a Japan support chat and shop teams, in several
// languages.
func replicaChannels() []kpi.ChatChannel {
	return []kpi.ChatChannel{
		{Platform: "line", ID: fmt.Sprintf("C%032x", 0xa1), Role: kpi.RoleHQ, Lang: "zh"},
		{Platform: "line", ID: fmt.Sprintf("C%032x", 0xa2), Role: kpi.RoleJPSupport, Lang: "ja"},
		{Platform: "line", ID: fmt.Sprintf("C%032x", 0xa3), Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten"}},
		{Platform: "line", ID: fmt.Sprintf("U%032x", 0xa4), Role: kpi.RoleShop, Lang: "zh", Shops: []string{"amazon-jp", "yahoo"}},
		{Platform: "slack", ID: "C0REPHQ", Role: kpi.RoleHQ, Lang: "zh+ja"},
		{Platform: "slack", ID: "C0REPJP", Role: kpi.RoleJPSupport, Lang: "ja"},
		{Platform: "slack", ID: "C0REPYAHOO", Role: kpi.RoleShop, Lang: "en", Shops: []string{"yahoo"}},
		{Platform: "slack", ID: "C0REPSHOPS", Role: kpi.RoleShop, Lang: "zh"},
	}
}

// seedReplicas binds the channels in the PostgreSQL store at dsn, then
// runs kpibot demo on it at at: the demo shops' data up to then, and the
// alerts it raises announced to the channels, in the outbox.
func seedReplicas(t *testing.T, dsn string, at time.Time, channels []kpi.ChatChannel) {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return at }
	store, err := openStore(ctx, env{now: now}, dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range channels {
		if err := store.BindChatChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	var out, errOut bytes.Buffer
	e := testEnv(&out, &errOut, "", "demo", "--db", dsn)
	e.now = now
	if code := run(ctx, e); code != 0 {
		t.Fatalf("kpibot demo on PostgreSQL: exit %d:\n%s", code, errOut.String())
	}
}

// checkAlertsAnnounced checks that the alert messages announce the
// alerts the store holds: each alert announced to a channel is in exactly
// one opening message to it.
func checkAlertsAnnounced(t *testing.T, dsn string, keys []string) {
	t.Helper()
	store, err := openStore(context.Background(), env{now: time.Now}, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	active, err := store.ActiveAlerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]int{} // alert id @ channel: the openings that carry it
	for _, k := range keys {
		// alert:ID+ID…:open:platform:chat
		parts := strings.SplitN(k, ":", 4)
		if len(parts) != 4 || parts[2] != "open" {
			continue // a reminder, an update: not the announcement
		}
		for _, id := range strings.Split(parts[1], "+") {
			in[id+"@"+parts[3]]++
		}
	}
	told := 0
	for _, a := range active {
		for _, ch := range a.Channels {
			told++
			if n := in[strconv.FormatInt(a.ID, 10)+"@"+ch]; n != 1 {
				t.Errorf("alert #%d is in %d messages to %s, want 1", a.ID, n, ch)
			}
		}
	}
	if told == 0 {
		t.Errorf("no alert was announced to any channel")
	}
}

// sameKeys fails unless got holds each key of want exactly once, and
// nothing else.
func sameKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	n := map[string]int{}
	for _, k := range got {
		n[k]++
	}
	for _, k := range want {
		if n[k] != 1 {
			t.Errorf("%s: %s %d times, want once", what, k, n[k])
		}
		delete(n, k)
	}
	for k, c := range n {
		t.Errorf("%s: %s %d times, want none", what, k, c)
	}
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// outboxRow is a row of the outbox table.
type outboxRow struct {
	key, platform, channel string
	payload                []byte
	attempts, nextTry      int64
	sent                   bool
}

func outboxRows(t *testing.T, admin *pgx.Conn) []outboxRow {
	t.Helper()
	rows, err := admin.Query(context.Background(), "SELECT key, platform, channel, payload, attempts, next_try, sent_at IS NOT NULL FROM outbox ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (outboxRow, error) {
		var o outboxRow
		err := r.Scan(&o.key, &o.platform, &o.channel, &o.payload, &o.attempts, &o.nextTry, &o.sent)
		return o, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func pending(t *testing.T, admin *pgx.Conn) int {
	t.Helper()
	var n int
	if err := admin.QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE sent_at IS NULL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// replica is a running kpibot serve among several, with its own ways out.
type replica struct {
	i      int
	app    string    // its PostgreSQL sessions' application_name
	gate   *gate     // its way to LINE and Slack
	db     *tcpProxy // its way to PostgreSQL
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

// startReplica starts replica i of a test run on the database at dsn,
// through a gate of its own to the fake LINE and Slack APIs at lineURL and
// slackURL, and waits until it listens.
func startReplica(t *testing.T, i int, dsn, tag string, clock clockwork.Clock, lineURL, slackURL string, trip *tripwire) *replica {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Hostname() == "" {
		t.Skipf("%s is not a TCP postgres:// URL: the replicas reach it through a proxy", pgtest.Env)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	r := &replica{i: i, app: fmt.Sprintf("kpibot replica %d %s", i, tag), stderr: &syncBuffer{}, done: make(chan int, 1)}
	r.db = newTCPProxy(t, target)
	u.Host = r.db.ln.Addr().String()
	q := u.Query()
	q.Set("application_name", r.app)
	u.RawQuery = q.Encode()
	r.gate = newGate(t, i, lineURL, slackURL, trip)
	vars := map[string]string{
		"KPIBOT_ADDR":               "127.0.0.1:0",
		"KPIBOT_DB":                 u.String(),
		"LINE_CHANNEL_SECRET":       testLineSecret,
		"LINE_CHANNEL_ACCESS_TOKEN": testLineToken,
		"LINE_API_URL":              r.gate.URL,
		"SLACK_SIGNING_SECRET":      testSigningSecret,
		"SLACK_BOT_TOKEN":           testBotToken,
		"SLACK_API_URL":             r.gate.URL + "/api",
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	ready := make(chan string, 1)
	e := env{
		args:    []string{"serve"},
		stdin:   strings.NewReader(""),
		stdout:  io.Discard,
		stderr:  r.stderr,
		getenv:  func(k string) string { return vars[k] },
		now:     clock.Now,
		ready:   func(addr string) { ready <- addr },
		clock:   clock,
		elector: postgres.ElectorConfig{Name: "kpibot test replicas " + tag, Interval: electorInterval},
	}
	go func() { r.done <- run(ctx, e) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(15 * time.Second):
			t.Errorf("replica %d did not stop:\n%s", i, r.stderr)
		}
	})
	select {
	case <-ready:
	case code := <-r.done:
		r.done <- code
		t.Fatalf("replica %d exited with %d before listening:\n%s", i, code, r.stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("replica %d did not listen within 20 s:\n%s", i, r.stderr)
	}
	return r
}

// leading tells whether the replica's elector last said it leads.
func (r *replica) leading() bool {
	log := r.stderr.String()
	lead := strings.LastIndex(log, "postgres: elector: leading:")
	return lead >= 0 && lead > strings.LastIndex(log, "postgres: elector: following:") &&
		lead > strings.LastIndex(log, "postgres: elector: lost the lock") && lead > strings.LastIndex(log, "postgres: elector: closed:")
}

// kill crashes the replica: its ways to the chat platforms and to
// PostgreSQL are cut, the server ends what is left of its sessions, then
// its context is cancelled and it is waited for. Nothing it tries after the
// cut gets anywhere.
func (r *replica) kill(t *testing.T, admin *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	r.gate.kill()
	r.db.kill()
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", r.app); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", r.app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d still has %d PostgreSQL sessions 10 s after it was killed", r.i, n)
		}
	}
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code // for the cleanup
	case <-time.After(15 * time.Second):
		t.Fatalf("the killed replica %d did not return within 15 s:\n%s", r.i, r.stderr)
	}
}

// waitForLeader waits until a replica, not one of except, leads, and
// returns it.
func waitForLeader(t *testing.T, replicas []*replica, except ...int) int {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for i, r := range replicas {
			if !slices.Contains(except, i) && r.leading() {
				return i
			}
		}
	}
	t.Fatalf("no replica leads after 20 s:\n%s", logs(replicas))
	return -1
}

// logs is the replicas' logs, for a failure.
func logs(replicas []*replica) string {
	var b strings.Builder
	for i, r := range replicas {
		fmt.Fprintf(&b, "--- replica %d:\n%s", i, r.stderr)
	}
	return b.String()
}

// tripwire catches the message a leader dies sending: of the kind its trap
// names, the one that comes after the trap's first few, counted from when
// it is armed.
type tripwire struct {
	mu  sync.Mutex
	cur *trap
}

// trap is what a tripwire is armed with.
type trap struct {
	slack   bool     // a Slack message (a post, a shared upload), else a LINE push
	after   int      // how many of them get through before the one caught
	reaches bool     // the message caught reaches the platform, but the answer is lost; else it never does
	caught  chan int // the replica that sent it
	n       int
}

func (w *tripwire) arm(slack bool, after int, reaches bool) *trap {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cur = &trap{slack: slack, after: after, reaches: reaches, caught: make(chan int, 1)}
	return w.cur
}

// catch counts a LINE push or a Slack message and returns the trap if it
// is the one to catch.
func (w *tripwire) catch(slack bool) *trap {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur == nil || w.cur.slack != slack {
		return nil
	}
	if w.cur.n++; w.cur.n <= w.cur.after {
		return nil
	}
	tr := w.cur
	w.cur = nil
	return tr
}

// wait waits for the trap to catch a message and returns the replica that
// sent it. Should the leader have skipped a tick (its lease lapsing for a
// moment), the clock moves on to the next every few seconds.
func (tr *trap) wait(t *testing.T, clock *clockwork.FakeClock, replicas []*replica) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case i := <-tr.caught:
			return i
		case <-time.After(3 * time.Second):
			if time.Now().After(deadline) {
				t.Fatalf("the leader did not get to its message %d within 30 s:\n%s", tr.after+1, logs(replicas))
			}
			clock.Advance(30 * time.Second)
		}
	}
}

// gate is a replica's way to the fake LINE (/v2/…) and Slack (/api/…,
// /upload/…) APIs: it passes the requests on and notes what they were. The
// message the tripwire catches is held: passed on or not, as its trap
// says, and never answered. Once killed, no request gets through.
type gate struct {
	*httptest.Server
	i        int
	lineURL  string
	slackURL string
	trip     *tripwire
	closing  chan struct{}
	mu       sync.Mutex
	dead     bool
	calls    []gateCall // passed on
	late     []string   // came after the kill
}

// gateCall is a request a gate passed on, and the answer.
type gateCall struct {
	path     string
	status   int
	retryKey string // a LINE push's
	ok       bool   // a Slack call's answer said ok
}

func newGate(t *testing.T, i int, lineURL, slackURL string, trip *tripwire) *gate {
	g := &gate{i: i, lineURL: lineURL, slackURL: slackURL, trip: trip, closing: make(chan struct{})}
	g.Server = httptest.NewServer(g)
	t.Cleanup(func() {
		close(g.closing)
		g.Close()
	})
	return g
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	g.mu.Lock()
	dead := g.dead
	if dead {
		g.late = append(g.late, r.Method+" "+r.URL.Path)
	}
	g.mu.Unlock()
	if dead {
		g.hold(r)
		return
	}
	target := g.slackURL
	if strings.HasPrefix(r.URL.Path, "/v2/") {
		target = g.lineURL
	}
	push := r.Method == http.MethodPost && r.URL.Path == "/v2/bot/message/push"
	slackMsg := r.Method == http.MethodPost && (r.URL.Path == "/api/chat.postMessage" || r.URL.Path == "/api/files.completeUploadExternal")
	var tr *trap
	if push || slackMsg {
		tr = g.trip.catch(slackMsg)
	}
	if tr != nil && !tr.reaches {
		tr.caught <- g.i
		g.hold(r) // the replica dies before the message gets out
		return
	}
	// Passed on whatever the replica does meanwhile: what reaches the fake
	// is answered and noted.
	req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host // Slack's upload URLs name the gate
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	c := gateCall{path: r.URL.Path, status: res.StatusCode, ok: bytes.Contains(answer, []byte(`"ok":true`))}
	if push {
		c.retryKey = r.Header.Get("X-Line-Retry-Key")
	}
	g.mu.Lock()
	g.calls = append(g.calls, c)
	g.mu.Unlock()
	if tr != nil {
		tr.caught <- g.i
		g.hold(r) // the answer is lost: the replica dies waiting for it
		return
	}
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	w.Write(answer)
}

// hold keeps a request unanswered until its sender gives up or the test
// ends.
func (g *gate) hold(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-g.closing:
	}
}

// kill lets no request through any more.
func (g *gate) kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.dead = true
}

// pushes returns the retry keys of the LINE pushes passed on and answered
// status (0: any), in order.
func (g *gate) pushes(status int) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, c := range g.calls {
		if c.retryKey != "" && (status == 0 || c.status == status) {
			out = append(out, c.retryKey)
		}
	}
	return out
}

// posts counts the Slack messages passed on and taken: posts and shared
// uploads.
func (g *gate) posts() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.calls {
		if (strings.HasSuffix(c.path, "/chat.postMessage") || strings.HasSuffix(c.path, "/files.completeUploadExternal")) && c.ok {
			n++
		}
	}
	return n
}

// lateCalls returns the requests that came after the kill.
func (g *gate) lateCalls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.late)
}

// tcpProxy passes TCP connections on to target until it is killed: then
// it closes them all and takes no more.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []net.Conn
	dead  bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go p.accept()
	t.Cleanup(p.kill)
	return p
}

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.dead {
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// kill closes the listener and every connection.
func (p *tcpProxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		return
	}
	p.dead = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}
