#!/usr/bin/env bash
# Makes the cluster tests' certificates (valid 100 years): a cluster CA
# signing node-a, node-b, node-c and client; a rogue CA signing rogue. Run
# from this directory; the tests use the files as committed.
set -euo pipefail
ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
         -keyout "$1.key" -out "$1.pem" -days 36500 -subj "/CN=$1" 2>/dev/null; }
signed() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
             -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
           openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
             -out "$1.pem" -days 36500 2>/dev/null
           rm "$1.csr"; }
ca cluster-ca
ca rogue-ca
for n in node-a node-b node-c client; do signed "$n" cluster-ca; done
signed rogue rogue-ca
rm -f ./*.srl cluster-ca.key rogue-ca.key
