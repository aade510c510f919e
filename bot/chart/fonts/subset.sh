#!/bin/sh
# subset.sh builds NotoSansCJKsc-Regular-subset.otf, the font that bot/chart
# embeds, from the Noto Sans CJK collection of Debian's fonts-noto-cjk.
#
# A maintainer's tool: run it by hand after a locale file gains a character
# outside the subset (TestFontCoversLocales says which), then commit the new
# .otf. Tests and CI never run it. It needs two Debian packages:
#
#	apt-get install fonts-noto-cjk python3-fonttools
#
# Usage, from anywhere in the repository:
#
#	sh bot/chart/fonts/subset.sh
#
# The character set (see README.md): ASCII and Latin-1, the punctuation and
# symbols the product uses, CJK symbols and punctuation, hiragana and katakana,
# half- and full-width forms, GB 2312 level-1 hanzi, JIS X 0208 level-1 kanji,
# and every character of locales/*.toml.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
src=${NOTO_CJK_TTC:-/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc}
out="$here/NotoSansCJKsc-Regular-subset.otf"
# Face 2 of the collection is Noto Sans CJK SC (0 JP, 1 KR, 2 SC, 3 TC, 4 HK);
# README.md says why SC.
face=2

# fontTools comes from python3-fonttools, for the system's Python: prefer it
# over whatever python3 comes first on PATH (pyenv and the like).
py=${PYTHON:-}
if [ -z "$py" ]; then
	for p in /usr/bin/python3 python3; do
		if "$p" -c 'import fontTools.subset' 2>/dev/null; then py=$p; break; fi
	done
fi
if [ -z "$py" ]; then
	echo "subset.sh: no Python with fontTools; apt-get install python3-fonttools" >&2
	exit 1
fi
if [ ! -f "$src" ]; then
	echo "subset.sh: $src not found; apt-get install fonts-noto-cjk" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The code points, one U+XXXX a line.
"$py" - "$root" "$src" "$face" > "$tmp/unicodes.txt" <<'PY'
import glob, os, sys

root = sys.argv[1]
cps = set()

def span(a, b):
    cps.update(range(a, b + 1))

span(0x20, 0x7E)        # ASCII
span(0xA0, 0xFF)        # Latin-1
span(0x2000, 0x206F)    # general punctuation: · … — – ‘ ’ “ ” ‰ ′ ※ ‼
span(0x20A0, 0x20CF)    # currency: € ₩ ₹
span(0x2100, 0x214F)    # letterlike: ℃ № ™
span(0x2150, 0x218F)    # number forms: ⅓ Ⅰ Ⅱ Ⅲ
span(0x2190, 0x21FF)    # arrows: ↑ ↓ → ← ↗ ↘
span(0x2200, 0x22FF)    # mathematical operators: ≤ ≥ ≈ ≠ − ∞
span(0x2460, 0x24FF)    # enclosed alphanumerics: ①②③
span(0x25A0, 0x25FF)    # geometric shapes: ■ □ ▲ ▼ ● ○ ◆
span(0x2600, 0x26FF)    # miscellaneous symbols: ★ ☆ ⚠
span(0x2700, 0x27BF)    # dingbats: ✓ ✔ ✗ ✕
span(0x3000, 0x303F)    # CJK symbols and punctuation: 、 。 「 」 【 】 〜
span(0x3040, 0x309F)    # hiragana
span(0x30A0, 0x30FF)    # katakana
span(0x31F0, 0x31FF)    # katakana phonetic extensions
span(0xFF00, 0xFFEF)    # half-width and full-width forms: ， （ ） ： ％ ￥ ｶﾅ
cps.update(ord(c) for c in "㈱㈲㍉㌔㌢㍍㌘㌧㌃㌶㍑㍗㌍㌦㌣㌫㍊㌻㎜㎝㎞㎎㎏㏄㎡")

def decode_rows(codec, rows):
    for hi in rows:
        for lo in range(0xA1, 0xFF):
            try:
                cps.update(ord(c) for c in bytes([hi, lo]).decode(codec))
            except UnicodeDecodeError:
                pass

decode_rows("gb2312", range(0xB0, 0xD8))  # GB 2312 level 1: rows 16-55, 3,755 hanzi
decode_rows("euc_jp", range(0xB0, 0xD0))  # JIS X 0208 level 1: rows 16-47, 2,965 kanji

locale = set()
for path in sorted(glob.glob(os.path.join(root, "locales", "*.toml"))):
    with open(path, encoding="utf-8") as f:
        locale.update(ord(c) for c in f.read() if c >= " ")
cps |= locale

# Say which characters of the locale files the font itself lacks (emoji,
# mostly): charts would draw them as boxes, whatever the subset.
from fontTools.ttLib import TTFont
cmap = TTFont(sys.argv[2], fontNumber=int(sys.argv[3]), lazy=True).getBestCmap()
lacking = sorted(cp for cp in locale if cp not in cmap and not 0xFE00 <= cp <= 0xFE0F)
if lacking:
    print("subset.sh: not in the font, drawn as .notdef: " + " ".join("%s (U+%04X)" % (chr(cp), cp) for cp in lacking), file=sys.stderr)

for cp in sorted(cps):
    print("U+%04X" % cp)
PY

# Layout features: only kern (x/image/font/sfnt reads GPOS pair kerning; it
# does no other shaping). No hinting: x/image rasterises CFF outlines unhinted.
# .notdef keeps its outline, so a missing character shows as a box. Name IDs
# 13 and 14 keep the license in the file. Vertical metrics are dropped: the
# charts set text horizontally only.
"$py" -m fontTools.subset "$src" \
	--font-number="$face" \
	--unicodes-file="$tmp/unicodes.txt" \
	--layout-features=kern \
	--no-hinting \
	--desubroutinize \
	--notdef-outline \
	--name-IDs=0,1,2,3,4,5,6,13,14 \
	--drop-tables+=vhea,vmtx,VORG,BASE \
	--output-file="$out"

echo "wrote $out: $(wc -c < "$out") bytes, $(wc -l < "$tmp/unicodes.txt") code points asked for"
