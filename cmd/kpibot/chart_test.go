package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChartCommand(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		w, h   int    // the PNG's size; 0: no file
		out    string // in stdout
		errOut string // in stderr
	}{
		{"trend ja, flags after the text", []string{"/kpi 返品率 過去30日", "--out", "ja.png"}, 0, 1200, 600, "ja.png (1200×600).", ""},
		{"trend zh preview", []string{"--lang", "zh", "--size", "preview", "--out", "zh.png", "/kpi 24小时发货率 最近90天 乐天"}, 0, 480, 240, "zh.png（480×240）", ""},
		{"overview of a digest, bilingual", []string{"--lang", "zh+ja", "--out", "ov.png", "/kpi 日报"}, 0, 1200, 748, "（1200×748）", ""},
		{"a current metric has no chart", []string{"--lang", "en", "--out", "x.png", "/kpi pse_coverage"}, 1, 0, 0, "", "This question has no chart"},
		{"help has no chart", []string{"--lang", "en", "--out", "x.png", "/kpi help"}, 1, 0, 0, "", "This question has no chart"},
		{"a bad period", []string{"--lang", "en", "--out", "x.png", "/kpi gmv 2026-02-30"}, 1, 0, 0, "", `can't read the period "2026-02-30"`},
		{"no --out", []string{"--lang", "en", "/kpi gmv"}, 2, 0, 0, "", "Name the PNG file to write with --out"},
		{"no text", []string{"--lang", "en", "--out", "x.png"}, 2, 0, 0, "", "Tell kpibot what to draw"},
		{"bad size", []string{"--lang", "en", "--size", "huge", "--out", "x.png", "/kpi gmv"}, 2, 0, 0, "", `Unknown size "huge"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"chart", "--db", seeded}
			for _, a := range tt.args {
				if strings.HasSuffix(a, ".png") {
					a = filepath.Join(dir, a)
				}
				args = append(args, a)
			}
			code, out, errOut := exec(t, "", args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.errOut) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if tt.w == 0 {
				if _, err := os.Stat(filepath.Join(dir, "x.png")); err == nil {
					t.Errorf("a file was written")
				}
				return
			}
			f, err := os.ReadFile(pngArg(args))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(f))
			if err != nil || cfg.Width != tt.w || cfg.Height != tt.h {
				t.Errorf("PNG %d×%d (%v), want %d×%d", cfg.Width, cfg.Height, err, tt.w, tt.h)
			}
		})
	}

	// --out - writes the picture to stdout, and nothing else.
	code, out, errOut := exec(t, "", "chart", "--db", seeded, "--out", "-", "/kpi gmv chart")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if cfg, err := png.DecodeConfig(strings.NewReader(out)); err != nil || cfg.Width != 1200 {
		t.Errorf("stdout is not the chart: %v %+v", err, cfg)
	}
}

// pngArg is the .png file that args name.
func pngArg(args []string) string {
	for _, a := range args {
		if strings.HasSuffix(a, ".png") {
			return a
		}
	}
	return ""
}
