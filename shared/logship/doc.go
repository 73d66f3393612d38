// Package logship records tenant log events (API.md C.11: exchange_success,
// exchange_failed, login_success, ...) node-locally and ships them to the
// replicated store in the background.
//
// Record encodes the event to its C.11 JSON at once (so the caller may
// reuse every byte it passed) and appends it to a bounded in-memory ring;
// it takes one short mutex and never blocks on the store. The JSON carries
// the event's id three times, as log_id, id (Authok's key) and _id (the
// SDK's; API.md C.11 and F.3: emit both).
//
// Memory is bounded whatever a client sends. Every string of an event is
// cut at Record to its limit (MaxFieldBytes for ids, names, hostname and
// audience, MaxTextBytes for description, user_agent and detail values,
// MaxScopeBytes for scope; at most MaxDetails details) between
// characters; the limit counts the JSON's bytes after escaping, an
// invalid UTF-8 byte as the 6 of \ufffd, so one event's JSON is at most
// MaxEventBytes (~16 KiB; the token endpoint's usual event takes ~450 bytes).
// The ring is bounded by count (Config.Capacity, 16,384 events) and by
// bytes (Config.MaxBytes, 64 MiB of encoded events). When either is full
// the oldest events are dropped until the new one fits, and counted
// (authok_logship_events_dropped_total; authok_logship_buffered_bytes
// shows the bytes held): under a flood (an attacker hammering the token
// endpoint with bad credentials, or with 20 KB client_ids while shipping
// is stalled) a node keeps its latency and memory and loses the oldest
// events, not the newest.
//
// A background goroutine ships the ring in batches, one store transaction
// per batch, every FlushInterval or as soon as a batch is full. A batch is
// stored as one zstd-compressed key per tenant (batch.go) under
// t/<T>/log/<id> (shared/repo/doc.go), <id> being the smallest event id in
// it, with store.PutExpiring at its newest event's date plus Retention (30
// days by default). Event ids are ULIDs, so keys sort by date and ids from
// different nodes do not collide. Storing a thousand events as one small
// key instead of a thousand keys is what keeps the replicated store's
// apply, compaction and disk growth out of the cost of a token; Events
// and DecodeBatch are how readers get the events back. A failed batch
// stays in the ring and is retried with backoff; events are removed only
// once their transaction is applied. Close ships what is left, bounded by
// its context.
//
// Delivery is at most once per event in the ring and best effort overall:
// events still in memory when a node dies are lost. That is the price of
// keeping log writes off the request's critical path; log streams (C.12)
// will read from the store, not from here.
//
// This package must never be called with secrets in an event (it does not
// know which fields are secret; callers put none in), never write to the
// store from Record, and never import edge/ or control/.
package logship
