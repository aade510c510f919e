package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kpibot/kpibot/locales"
)

// configCmd runs `kpibot config check [FILE]`: it reads the config file
// (FILE, else --config, else KPIBOT_CONFIG) and prints what it sets, or
// every problem with where it is, in the language of the terminal (or
// --lang). It returns the exit code: 0 the file can be used, 2 not.
func configCmd(e env, text *locales.Catalog, p *locales.Printer, args []string) int {
	usage := func(msg string) int {
		fmt.Fprintln(e.stderr, msg)
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	switch {
	case len(args) == 0:
		return usage(p.T("config.command_needed", nil))
	case args[0] != "check":
		return usage(p.T("config.unknown_command", map[string]any{"Command": args[0]}))
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configFile := fs.String("config", "", "config file; KPIBOT_CONFIG if empty")
	langFlag := fs.String("lang", "", "the language of the messages: zh, ja or en")
	rest, err := parseAnywhere(fs, args[1:])
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
	if len(rest) > 1 {
		return usage(p.T("config.check_args", map[string]any{"Args": strings.Join(rest, " ")}))
	}
	var file string
	if len(rest) == 1 {
		file = rest[0]
	}
	path := cmp.Or(file, *configFile, e.getenv("KPIBOT_CONFIG"))
	if path == "" {
		fmt.Fprintln(e.stderr, p.T("config.check_no_file", nil))
		return 2
	}
	s, err := loadConfig(path, p)
	if err != nil {
		fmt.Fprintln(e.stderr, p.T("cli.config_invalid", map[string]any{"Path": path, "Error": err.Error()}))
		return 2
	}
	fmt.Fprintln(e.stdout, p.T("config.check_ok", map[string]any{"Path": path, "Shops": len(s.shops), "Channels": len(s.channels),
		"Rules": len(s.overrides), "Routes": len(s.routes)}))
	return 0
}
