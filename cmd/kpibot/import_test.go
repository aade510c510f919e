package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// importSetup returns a fresh database and a config file that names the
// Rakuten shop rk.
func importSetup(t *testing.T) (db, config string) {
	t.Helper()
	dir := t.TempDir()
	config = filepath.Join(dir, "kpibot.yaml")
	yaml := "shops:\n  - id: rk\n    platform: rakuten\n    name: Rakuten Main\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "import.db"), config
}

// runImport runs kpibot with stdin and the environment vars.
func runImport(t *testing.T, vars map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := testEnv(&out, &errOut, stdin, args...)
	e.getenv = func(k string) string { return vars[k] }
	code = run(context.Background(), e)
	if strings.Contains(errOut.String(), "goroutine ") || strings.Contains(errOut.String(), "panic") {
		t.Errorf("a stack trace reached the user:\n%s", errOut.String())
	}
	return code, out.String(), errOut.String()
}

const sjisOrders = "testdata/import/orders_sjis.csv"

// kpibot import reads a Shift_JIS ERP export with Japanese headers: the
// good rows are imported, each bad one is reported with its file, line
// (after a quoted line break) and column in the user's language, the name
// column is left out with a warning, and the exit code is 1. The same file
// again changes nothing; the orders are then in the KPIs.
func TestImportCommand(t *testing.T) {
	db, config := importSetup(t)
	ja := map[string]string{"LANG": "ja_JP.UTF-8"}
	code, out, errOut := runImport(t, ja, "", "import", "--db", db, "--config", config, "--shop", "rk", "--kind", "orders", sjisOrders)
	if code != 1 {
		t.Errorf("exit %d, want 1 (rows rejected)", code)
	}
	wantOut := sjisOrders + "（orders）：読込 5 行、取込 3 行、不正 2 行。レコード：新規 4 件、更新 0 件、変更なし 0 件\n"
	if out != wantOut {
		t.Errorf("stdout:\n%s\nwant\n%s", out, wantOut)
	}
	wantErr := sjisOrders + ":5: 列「注文日時」：「2026-13-45」は日付ではありません\n" +
		sjisOrders + ":6: 列「ステータス」：「未知」は注文ステータスではありません（例：入金待ち、発送待ち、発送済み、配達完了、キャンセル）\n" +
		sjisOrders + "：個人情報のため取り込まない列：注文者名（氏名・メールアドレス・電話番号・住所は保存しません。顧客IDの列はハッシュ化して保存します）\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant\n%s", errOut, wantErr)
	}
	for _, name := range []string{"山田", "佐藤", "鈴木"} {
		if data, err := os.ReadFile(db); err != nil || bytes.Contains(data, []byte(name)) {
			t.Errorf("the database has %q (or cannot be read: %v)", name, err)
		}
	}

	// Again, in Chinese, the shop now from the database (no config file).
	code, out, errOut = runImport(t, nil, "", "import", "--db", db, "--shop", "rk", "--kind", "orders", "--lang", "zh", sjisOrders)
	if code != 1 || !strings.HasSuffix(out, "读取 5 行，导入 3 行，拒绝 2 行；记录：新增 0 条，更新 0 条，未变 4 条\n") {
		t.Errorf("the second import: exit %d, stdout:\n%s", code, out)
	}
	if !strings.HasPrefix(errOut, sjisOrders+":5: 列“注文日時”：“2026-13-45”不是日期\n"+sjisOrders+":6: 列“ステータス”：“未知”不是订单状态") {
		t.Errorf("the second import's stderr:\n%s", errOut)
	}

	code, answer, errOut := exec(t, "", "ask", "--db", db, "--lang", "en", "/kpi orders rk last 7 days")
	if code != 0 || !strings.Contains(answer, "Rakuten Main  3") {
		t.Errorf("the imported orders are not in the answer: exit %d\n%s\n%s", code, answer, errOut)
	}
}

// A file read whole from stdin, with flags after it, exits 0; a review
// export's columns are found by their English names.
func TestImportStdin(t *testing.T) {
	db, config := importSetup(t)
	csv := "review date,rating,review text,order number,replied at\n" +
		"2026-11-26 10:00,1,\"Broken on arrival.\nVery sad.\",R-1,\n" +
		"2026-11-26 12:00,5,Great,R-2,2026-11-26 15:00\n"
	code, out, errOut := runImport(t, nil, csv, "import", "--db", db, "-", "--config", config, "--shop", "rk", "--kind", "reviews")
	want := "standard input (reviews): 2 rows read, 2 imported, 0 rejected; records: 2 new, 0 updated, 0 unchanged\n"
	if code != 0 || out != want || errOut != "" {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and\n%s", code, out, errOut, want)
	}
}

// The caller's --header names an ERP's own columns; columns nothing reads
// are listed.
func TestImportHeaderFlag(t *testing.T) {
	db, config := importSetup(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "马帮.csv")
	csv := "平台单号,成交时间,备注\nMB-1,2026-11-26 10:00,加急\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	zh := map[string]string{"LANG": "zh_CN.UTF-8"}
	code, out, errOut := runImport(t, zh, "", "import", "--db", db, "--config", config, "--shop", "rk", "--kind", "orders", file)
	if code != 1 || out != "" || !strings.Contains(errOut, "未导入：表头行缺少列：order id / ") {
		t.Errorf("without --header: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runImport(t, zh, "", "import", "--db", db, "--config", config, "--shop", "rk", "--kind", "orders",
		"--header", "id=平台单号", "--header", "placed=成交时间", file)
	if code != 0 || !strings.Contains(out, "导入 1 行") || errOut != file+"：未导入的列：备注\n" {
		t.Errorf("with --header: exit %d\n%s\n%s", code, out, errOut)
	}
}

// The config file's imports section names an ERP's own columns for its
// shop and kind, as --header does; with both, both apply.
func TestImportConfigHeaders(t *testing.T) {
	csv := "平台单号,成交时间,付款时间,订单状态\n" +
		"MB-1,2026-11-26 10:00,2026-11-26 10:05,待发货\n" +
		"MB-2,2026-11-26 11:00,,待付款\n"
	shop := "shops:\n  - id: rk\n    platform: rakuten\n    name: Rakuten Main\n"
	const imported = " (orders): 2 rows read, 2 imported, 0 rejected; records: 2 new, 0 updated, 0 unchanged\n"
	tests := []struct {
		name    string
		imports string // the config file's after the shop rk's name: its imports, other shops
		flags   []string
		code    int
		stdout  string // "": nothing; else after the file's name
		stderr  string // after the file's name
	}{
		{"no mapping", "", nil, 1, "", ": not imported: the header line lacks columns: order id / "},
		{"another shop's mapping", "  - id: other\n    platform: rakuten\n    imports:\n      orders:\n        id: 平台单号\n        placed: 成交时间\n", nil,
			1, "", ": not imported: the header line lacks columns"},
		{"another kind's mapping", "    imports:\n      reviews:\n        posted: 成交时间\n", nil, 1, "",
			": not imported: the header line lacks columns"},
		{"the config's mapping", "    imports:\n      orders:\n        id: 平台单号\n        placed: [下单时间(北京), 成交时间]\n", nil, 0, imported, ""},
		{"config and --header", "    imports:\n      Orders:\n        id: [平台单号]\n", []string{"--header", "placed=成交时间"}, 0, imported, ""},
		{"a header given twice", "    imports:\n      orders:\n        id: 平台单号\n        placed: 成交时间\n", []string{"--header", "paid=成交时间"},
			1, "", `: not imported: The header "成交时间" is given to two fields: paid, placed.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db, config, file := filepath.Join(dir, "import.db"), filepath.Join(dir, "kpibot.yaml"), filepath.Join(dir, "马帮.csv")
			if err := os.WriteFile(config, []byte(shop+tt.imports), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"import", "--db", db, "--config", config, "--shop", "rk", "--kind", "orders", file}, tt.flags...)
			code, out, errOut := runImport(t, nil, "", args...)
			wantOut, wantErr := "", ""
			if tt.stdout != "" {
				wantOut = file + tt.stdout
			}
			if tt.stderr != "" {
				wantErr = file + tt.stderr
			}
			if code != tt.code || out != wantOut || !strings.HasPrefix(errOut, wantErr) || wantErr == "" && errOut != "" {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout:\n%s\nstderr beginning %q", code, out, errOut, tt.code, wantOut, wantErr)
			}
			// The rows are in the store, or none is: the shop has no data.
			want := "Rakuten Main  —  (no data yet)"
			if tt.code == 0 {
				want = "Rakuten Main  2"
			}
			code, answer, errOut := exec(t, "", "ask", "--db", db, "--lang", "en", "/kpi orders rk last 7 days")
			if code != 0 || !strings.Contains(answer, want) {
				t.Errorf("want %q in the answer: exit %d\n%s\n%s", want, code, answer, errOut)
			}
		})
	}
}

// A wrong command line exits 2 with a message that says what to do, in the
// terminal's language, and imports nothing.
func TestImportRefusesWhatItCannotDo(t *testing.T) {
	db, config := importSetup(t)
	file := filepath.Join("testdata", "import", "orders_sjis.csv")
	base := []string{"import", "--db", db, "--config", config}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"no shop", nil, []string{"--kind", "orders", file}, "Which shop is the file of? Add --shop ID."},
		{"no kind", nil, []string{"--shop", "rk", file}, `Unknown kind "": use one of orders, reviews, tickets, shifts, customs, listings, competitors, inventory, ads.`},
		{"a kind unknown", nil, []string{"--shop", "rk", "--kind", "returns", file}, `Unknown kind "returns"`},
		{"no file", nil, []string{"--shop", "rk", "--kind", "orders"}, "Name one file to import"},
		{"two files", nil, []string{"--shop", "rk", "--kind", "orders", file, file}, "Name one file to import"},
		{"a bad --header", nil, []string{"--shop", "rk", "--kind", "orders", "--header", "placed", file}, "--header placed: write FIELD=NAME"},
		{"an unknown field", nil, []string{"--shop", "rk", "--kind", "ads", "--header", "placed=日", file},
			`ads files have no field "placed": use one of day, campaign, impressions, clicks, spend, sales, orders.`},
		{"an unknown shop", nil, []string{"--shop", "amz", "--kind", "orders", file}, `There is no shop "amz" in the database or the config file.`},
		{"a missing file", nil, []string{"--shop", "rk", "--kind", "orders", "nope.csv"}, "Can't open nope.csv: no such file or directory."},
		{"a bad --lang", nil, []string{"--shop", "rk", "--kind", "orders", "--lang", "fr", file}, `Unknown language "fr"`},
		{"an unknown flag", nil, []string{"--shop", "rk", "--kind", "orders", "--dry-run", file}, "flag provided but not defined: -dry-run"},
		{"in Japanese", map[string]string{"LANG": "ja_JP.UTF-8"}, []string{"--kind", "orders", file},
			"どのショップのファイルですか。--shop ID を指定してください。"},
		{"in Chinese", map[string]string{"LANG": "zh_CN.UTF-8"}, []string{"--shop", "nope", "--kind", "orders", file},
			"数据库和配置文件中都没有店铺“nope”。"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runImport(t, tt.vars, "", append(base, tt.args...)...)
			if code != 2 || out != "" || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", code, out, errOut, tt.want)
			}
		})
	}
	code, answer, _ := exec(t, "", "ask", "--db", db, "--lang", "en", "/kpi orders rk last 7 days")
	// Nothing was ever stored of the shop: no data yet, not even zeros.
	if code != 0 || !strings.Contains(answer, "Rakuten Main  —  (no data yet)") {
		t.Errorf("something was imported: exit %d\n%s", code, answer)
	}
}

func TestShown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-13-45", "2026-13-45"},
		{"佐藤\r\n花子", "佐藤⏎花子"},
		{strings.Repeat("あ", 70), strings.Repeat("あ", 59) + "…"},
	}
	for _, tt := range tests {
		if got := shown(tt.in); got != tt.want {
			t.Errorf("shown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
