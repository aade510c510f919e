package bot

import (
	"fmt"
	"strings"
)

// PlainText lays the reply out as plain text, aligned for a fixed-width
// font where East Asian characters take two columns: the console's output
// and the fallback of adapters whose rich layout was refused.
func (r Reply) PlainText() string {
	var b strings.Builder
	if r.Title != "" {
		if m := Mark(r.Verdict); m != "" {
			b.WriteString(m + " ")
		}
		b.WriteString(r.Title + "\n")
	}
	width := 0
	for _, f := range r.Fields {
		width = max(width, displayWidth(f.Label))
	}
	for _, f := range r.Fields {
		fmt.Fprintf(&b, "  %s%s  %s\n", f.Label, pad(f.Label, width), f.Value)
	}
	if len(r.Rows) > 0 {
		if r.RowsTitle != "" {
			b.WriteString(r.RowsTitle + "\n")
		}
		writeRows(&b, r.Rows)
	}
	for _, s := range r.Sections {
		b.WriteString("\n")
		if m := Mark(s.Verdict); m != "" {
			b.WriteString(m + " ")
		}
		b.WriteString(s.Title + "\n")
		writeRows(&b, s.Rows)
	}
	if r.Context != "" {
		b.WriteString("  " + r.Context + "\n")
	}
	for _, n := range r.AllNotes() {
		b.WriteString("  * " + n + "\n")
	}
	if r.Text != "" {
		b.WriteString(r.Text + "\n")
	}
	return b.String()
}

// writeRows writes rows as an aligned table: mark, label, value, (detail).
func writeRows(b *strings.Builder, rows []Row) {
	width, valueWidth := 0, 0
	for _, row := range rows {
		width = max(width, displayWidth(row.Label))
		valueWidth = max(valueWidth, displayWidth(row.Value))
	}
	for _, row := range rows {
		mark := Mark(row.Verdict)
		if mark == "" {
			mark = "  "
		}
		fmt.Fprintf(b, "  %s %s%s  %s%s", mark, row.Label, pad(row.Label, width), pad(row.Value, valueWidth), row.Value)
		if row.Detail != "" {
			fmt.Fprintf(b, "  (%s)", row.Detail)
		}
		b.WriteString("\n")
	}
}

// AllNotes are the reply's notes, its Hint last.
func (r Reply) AllNotes() []string {
	if r.Hint == "" {
		return r.Notes
	}
	return append(r.Notes[:len(r.Notes):len(r.Notes)], r.Hint)
}

// Summary is the reply on one line, for notifications and previews: the
// verdict's mark, the title and the value (the first field), else the first
// non-blank line of the text.
func (r Reply) Summary() string {
	if r.Title == "" {
		for l := range strings.SplitSeq(r.Text, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				return l
			}
		}
		return ""
	}
	s := oneLine(r.Title)
	if m := Mark(r.Verdict); m != "" {
		s = m + " " + s
	}
	if len(r.Fields) > 0 && r.Fields[0].Value != "" {
		s += ": " + oneLine(r.Fields[0].Value)
	}
	return s
}

// oneLine joins the lines of s with spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// displayWidth counts East Asian wide characters as two columns.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && (r <= 0x115f || r >= 0x2e80 && r <= 0xa4cf || r >= 0xac00 && r <= 0xd7a3 ||
			r >= 0xf900 && r <= 0xfaff || r >= 0xfe30 && r <= 0xfe4f || r >= 0xff00 && r <= 0xff60 ||
			r >= 0xffe0 && r <= 0xffe6):
			w += 2
		default:
			w++
		}
	}
	return w
}

func pad(s string, width int) string {
	return strings.Repeat(" ", max(width-displayWidth(s), 0))
}
