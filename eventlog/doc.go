// Package eventlog is bgmux's durable log of task events: one append-only
// file of JSON Lines shared by every process that observes a task (the
// supervisor, restore, stop, a waiting start or up), read by `bgmux
// events`, `bgmux wait --any` and, later, agents' plugins.
//
// On disk, in the directory given to New ($STATE/events):
//
//	.lock            flock: appends and rotation take it exclusively,
//	                 reads shared, so a reader never sees a rotation half
//	                 done and a line is always whole
//	events.jsonl     the newest events, one JSON object per line
//	events.jsonl.1   the segment before it (after a rotation)
//	cursors/<key>    where each reader (and selection) stopped
//	cursors/.lock    flock: serialises the cursors
//
// Every event gets a sequence number (seq), one more than the last one in
// the log, assigned under the lock; seq counts across rotations, so it is
// the position readers keep. Each line is written with a single write(2)
// on an O_APPEND descriptor while the lock is held, and fsynced: many
// writers, in any number of processes, never tear or interleave a line. A
// line cut short anyway (a full disk) is ended by the next append and
// skipped by readers. Rotation (at MaxSize, 4 MiB by default) renames
// events.jsonl to events.jsonl.1, dropping the older segment; readers say
// how many events they missed that way.
//
// The package knows nothing of bgmux's tasks beyond the fields of Event.
package eventlog
