// Package logship records tenant log events (API.md C.11: exchange_success,
// exchange_failed, login_success, ...) node-locally and ships them to the
// replicated store in the background.
//
// Record encodes the event to its C.11 JSON at once (so the caller may
// reuse every byte it passed) and appends it to a bounded in-memory ring;
// it takes one short mutex and never blocks on the store. When the ring is
// full the oldest event is dropped and counted
// (authok_logship_events_dropped_total): under a flood (an attacker
// hammering the token endpoint with bad credentials) a node keeps its
// latency and loses the oldest events, not the newest.
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
