#!/bin/sh
# Signs the golden command (command.json) with the shell and OpenSSL 3
# alone, following the byte format in ../doc.go: an example for operators'
# tools outside Go, checked by TestOpenSSLSigns. Prints the envelope.
set -eu
export LC_ALL=C
cd "$(dirname "$0")"
key=golden.key # chmod 600 for a real key

topic=fruitcam/belt-a/cmd/pause
ts=2026-11-29T09:41:07.123Z # date -u +%Y-%m-%dT%H:%M:%S.%3NZ
nonce=$(printf 'fruitcam-golden!' | base64 -w0) # head -c16 /dev/urandom | base64 -w0
body='{"id":"42"}'
# The key id: SHA-256 of the 32 raw public key bytes (the end of the
# DER), first 8 bytes in hex.
kid=$(openssl pkey -in "$key" -pubout -outform DER | tail -c 32 | openssl dgst -sha256 -binary | head -c 8 | od -An -tx1 | tr -d ' \n')

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
field() { printf '%s %d:%s\n' "$1" "${#2}" "$2"; } # values here are ASCII: characters = bytes
{
	printf 'fruitcam-signed/1\n'
	field alg ed25519
	field kid "$kid"
	field purpose command
	field topic "$topic"
	field ts "$ts"
	field nonce "$nonce"
	field version 0
	field body "$body"
} >"$tmp"
sig=$(openssl pkeyutl -sign -inkey "$key" -rawin -in "$tmp" | base64 -w0)
b64body=$(printf '%s' "$body" | base64 -w0)
printf '{"signed":1,"alg":"ed25519","kid":"%s","purpose":"command","topic":"%s","ts":"%s","nonce":"%s","body":"%s","sig":"%s"}\n' \
	"$kid" "$topic" "$ts" "$nonce" "$b64body" "$sig"
