#!/bin/sh
# Regenerates the example clips shipped with serkit: speech synthesised with espeak-ng
# (no corpus audio), padded with a little silence like RAVDESS, 16 kHz mono Ogg Vorbis (a few tens of KB each).
# Each is named for the emotion its delivery was made to suggest, then that delivery
# (happy--fast-high.ogg); `serkit demo` shows it beside the prediction.
# Needs espeak-ng and sox. Run from this folder: sh make_examples.sh
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() {  # say NAME VOICE SPEED PITCH AMPLITUDE TEXT
    espeak-ng -v "$2" -s "$3" -p "$4" -a "$5" -w "$tmp/$1.wav" "$6"
    sox "$tmp/$1.wav" -r 16000 -b 16 "$tmp/$1-16k.wav" gain -n -3 pad 0.4 0.4
}

say sad--slow-low en-us 105 20 70 "Kids are talking by the door."
say happy--fast-high en-us+f3 185 85 150 "Dogs are sitting by the door!"
say angry--loud-fast en-us 175 45 180 "Dogs are sitting by the door!"
say calm--soft-slow en-us+f2 95 35 45 "Kids are talking by the door."
for name in sad--slow-low happy--fast-high angry--loud-fast calm--soft-slow; do
    sox "$tmp/$name-16k.wav" -C 3 "$name.ogg"
done
# A longer clip (about 13 s) whose timeline follows the changes of delivery.
sox "$tmp/calm--soft-slow-16k.wav" "$tmp/happy--fast-high-16k.wav" "$tmp/angry--loud-fast-16k.wav" \
    "$tmp/sad--slow-low-16k.wav" -C 3 calm-happy-angry-sad--long-mixed.ogg
