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
// # Aggregation
//
// Anyone can make the token endpoint fail as often as they like (an
// unknown client_id, no credentials at all), and each failure would be an
// event replicated to every node and kept for Retention. Such events are
// given an aggregation key (Event.Aggregate; the caller decides which
// events nobody can be held to and are aggregated, edge/token those
// without a known client). Of the events of one tenant, Type and key
// within one window (Config.AggregateWindow, a minute by default), the
// first is recorded as usual, at once; the others are only counted. When
// the window ends (at the next aggregated event, or at the next shipping
// tick after the window's end, by Config.Now; Close ends it at once) each
// key that counted events is recorded as one summary event: the fields of
// the first event counted (not the one recorded), dated at the last one,
// and three details first:
//
//	aggregated_count       how many events it stands for (decimal; the one
//	                       recorded individually is not among them)
//	aggregated_first_date  the date of the first of them
//	aggregated_key         the aggregation key, or "*" for a catch-all
//
// A window tracks at most Config.AggregateKeys keys (256); the events of
// further keys in that window are counted into one catch-all per tenant
// and type, whose summary has only the type, a description, and those
// details. So whatever a flood sends, a node records at most
// 2×AggregateKeys plus one per tenant and type aggregated events per
// window, and holds at most AggregateKeys events (each cut to its limits)
// in memory for them (Stats.Aggregated, authok_logship_events_aggregated_total,
// counts the events counted rather than recorded).
//
// # Quota
//
// Each tenant's stored batches (keys plus values) are bounded by
// Config.QuotaBytes (64 MiB by default): the transaction that writes a
// tenant's batch also deletes its oldest batches (a prefix scan lists them
// oldest first) until the new one fits, so the newest events are kept and
// every replica applies the same deletes. The bytes are counted in the
// tenant's usage record, t/<T>/log-usage (quota.go), by the day the
// batches expire, so the count forgets expired batches without scanning;
// the record is rewritten under a version condition with every batch, and
// a batch whose condition failed (another node wrote the same tenant's
// logs meanwhile) is rebuilt and retried at once. The store is read only
// for the usage record, and scanned from the oldest batch only when a
// batch would exceed the quota. The count errs high, never low: batches
// that expired earlier on the current day are counted until the day ends
// or are dropped when the scan finds nothing stored expires before a later
// day. A batch larger than the whole quota is not stored
// (Stats.OverQuota). Batches written before the usage record existed are
// not counted; they leave as they expire.
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
