package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kpibot/kpibot/connectors/csvimport"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// headerFlags collects the --header FIELD=NAME flags: the header names of an
// export's own columns. They are checked after parsing, for a message in
// the user's language.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, " ") }

func (h *headerFlags) Set(v string) error {
	*h = append(*h, v)
	return nil
}

// importCmd runs `kpibot import --shop ID --kind KIND [--header FIELD=NAME]...
// [--db PATH] [--config FILE] [--lang zh|ja|en] FILE`: it imports a CSV or
// TSV export (FILE "-" is stdin) into the shop's records, prints what it
// did on stdout and every rejected row, with its line, column and reason,
// on stderr, in --lang or the terminal's language. It exits 0 when every
// row was imported, 1 when some were rejected (the others are imported)
// or the import failed, 2 when the command line is wrong.
//
// The file's own header names come from the config file's imports section
// of the shop (shops[].imports.KIND.FIELD: a name or a list) and from the
// --header flags: both apply, a flag's names first.
func importCmd(ctx context.Context, e env, text *locales.Catalog, p *locales.Printer, args []string) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbPath := fs.String("db", dbDefault(e.getenv), "SQLite file")
	shopID := fs.String("shop", "", "the shop the file is of")
	kindFlag := fs.String("kind", "", "what the file holds: "+strings.Join(kindNames(), ", "))
	configFile := fs.String("config", "", "config file; KPIBOT_CONFIG if empty")
	langFlag := fs.String("lang", "", "the language of the messages: zh, ja or en; the terminal's if empty")
	var headerArgs headerFlags
	fs.Var(&headerArgs, "header", "FIELD=NAME: the file's header of a field, repeatable; with the config file's")
	usage := func(msg string) int {
		fmt.Fprintln(e.stderr, msg)
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	files, err := parseAnywhere(fs, args)
	if err != nil {
		return usage(p.T("cli.bad_flags", map[string]any{"Error": err.Error()}))
	}
	var lang locales.Lang
	if !langFlagOK(e, p, *langFlag, &lang) {
		return 2
	}
	if lang != "" {
		p = text.Printer(lang)
	}
	kind, ok := csvimport.ParseKind(*kindFlag)
	switch {
	case *shopID == "":
		return usage(p.T("cli.import_needs_shop", nil))
	case !ok:
		return usage(p.T("cli.import_bad_kind", map[string]any{"Kind": *kindFlag, "Kinds": strings.Join(kindNames(), ", ")}))
	case len(files) != 1:
		return usage(p.T("cli.import_needs_file", nil))
	}
	headers := map[string][]string{}
	for _, v := range headerArgs {
		field, name, ok := strings.Cut(v, "=")
		field, name = strings.TrimSpace(field), strings.TrimSpace(name)
		if !ok || field == "" || name == "" {
			return usage(p.T("cli.import_bad_header_flag", map[string]any{"Value": v}))
		}
		if !slices.Contains(csvimport.Fields(kind), field) {
			return usage(p.T("cli.import_unknown_field", map[string]any{"Field": field, "Kind": string(kind),
				"Fields": strings.Join(csvimport.Fields(kind), ", ")}))
		}
		headers[field] = append(headers[field], name)
	}
	settings, ok := readConfig(e, p, *configFile)
	if !ok {
		return 2
	}
	for field, names := range settings.importHeaders(*shopID, kind) {
		headers[field] = append(headers[field], names...)
	}

	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := openStore(ctx, e, *dbPath)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	defer store.Close()
	known, err := knownShop(ctx, store, settings, *shopID)
	if err != nil {
		return fail(e.stderr, p, log, err)
	}
	if !known {
		fmt.Fprintln(e.stderr, p.T("cli.import_unknown_shop", map[string]any{"Shop": *shopID}))
		return 2
	}

	path, name := files[0], files[0]
	var in io.Reader = e.stdin
	if path == "-" {
		name = p.T("cli.import_stdin", nil)
	} else {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(e.stderr, p.T("cli.import_cannot_open", map[string]any{"File": path, "Error": openError(err)}))
			return 2
		}
		defer f.Close()
		in = f
	}
	sum, err := csvimport.Import(ctx, store, *shopID, kind, in, csvimport.Options{Headers: headers})
	printImport(e, p, name, sum)
	if err != nil {
		var ke *kpi.Error
		if errors.As(err, &ke) && ke.Key != "" {
			fmt.Fprintln(e.stderr, p.T("cli.import_failed", map[string]any{"File": name, "Error": p.T(ke.Key, ke.Args)}))
			return 1
		}
		return fail(e.stderr, p, log, err)
	}
	if sum.Rejected > 0 {
		return 1
	}
	return 0
}

// knownShop reports whether the store has the shop; a shop only the config
// file names is written to the store first, as kpibot sync does.
func knownShop(ctx context.Context, store kpi.Store, settings configSettings, id string) (bool, error) {
	shops, err := store.Shops(ctx)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(shops, func(s kpi.Shop) bool { return s.ID == id }) {
		return true, nil
	}
	for _, s := range settings.shops {
		if s.shop.ID == id {
			_, err := store.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{s.shop}})
			return err == nil, err
		}
	}
	return false, nil
}

// printImport prints each rejected row and the columns left out on stderr,
// and the summary on stdout, when the import read the header line.
func printImport(e env, p *locales.Printer, file string, sum csvimport.Summary) {
	listed := map[int]bool{}
	for _, re := range sum.Errors {
		listed[re.Line] = true
		args := map[string]any{"File": file, "Line": re.Line, "Column": shown(re.Column), "Reason": p.T(re.Key, shownArgs(re.Args))}
		if re.Column == "" {
			fmt.Fprintln(e.stderr, p.T("cli.import_row", args))
		} else {
			fmt.Fprintln(e.stderr, p.T("cli.import_row_column", args))
		}
	}
	if more := sum.Rejected - len(listed); more > 0 {
		fmt.Fprintln(e.stderr, p.T("cli.import_more_rejected", map[string]any{"File": file, "N": more}))
	}
	if len(sum.Personal) > 0 {
		fmt.Fprintln(e.stderr, p.T("cli.import_personal", map[string]any{"File": file, "Columns": columnList(sum.Personal)}))
	}
	if len(sum.Unused) > 0 {
		fmt.Fprintln(e.stderr, p.T("cli.import_unused", map[string]any{"File": file, "Columns": columnList(sum.Unused)}))
	}
	if sum.Encoding == "" { // the header line was not read: nothing to sum up
		return
	}
	fmt.Fprintln(e.stdout, p.T("cli.import_summary", map[string]any{"File": file, "Kind": string(sum.Kind),
		"Read": sum.Read, "Imported": sum.Imported, "Rejected": sum.Rejected,
		"Inserted": sum.Stats.Inserted, "Updated": sum.Stats.Updated, "Unchanged": sum.Stats.Unchanged}))
}

// shownArgs returns a row error's arguments fit for one line of a
// terminal: each text value shown.
func shownArgs(args map[string]any) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		if s, ok := v.(string); ok {
			v = shown(s)
		}
		out[k] = v
	}
	return out
}

// shownMax is how many characters of a value a message shows.
const shownMax = 60

// shown returns a value from a file as a message shows it: on one line
// (a line break as ⏎) and at most shownMax characters.
func shown(s string) string {
	s = strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎").Replace(s)
	if utf8.RuneCountInString(s) > shownMax {
		s = string([]rune(s)[:shownMax-1]) + "…"
	}
	return s
}

func columnList(headers []string) string {
	shownHeaders := make([]string, len(headers))
	for i, h := range headers {
		shownHeaders[i] = shown(h)
	}
	return strings.Join(shownHeaders, ", ")
}

// openError says why a file did not open without repeating its path.
func openError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func kindNames() []string {
	names := make([]string, len(csvimport.Kinds))
	for i, k := range csvimport.Kinds {
		names[i] = string(k)
	}
	return names
}

// parseAnywhere parses args with fs, flags before, between and after the
// other arguments, which it returns.
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
}
