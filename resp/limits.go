package resp

import "math"

// Limits bound what one client may send. A zero or negative field takes its
// default from DefaultLimits.
type Limits struct {
	MaxBulkLen   int64 // proto-max-bulk-len; default 512 MiB
	MaxArgs      int   // most arguments in one multibulk command; default 1<<20 (1M)
	MaxInlineLen int   // longest inline command or header line; default 64 KiB
	MaxQueryLen  int64 // most bytes one command's arguments may total (client-query-buffer-limit); default 1 GiB
}

// DefaultLimits returns the limits Redis 7 applies by default.
func DefaultLimits() Limits {
	return Limits{
		MaxBulkLen:   512 << 20,
		MaxArgs:      1 << 20,
		MaxInlineLen: 64 << 10,
		MaxQueryLen:  1 << 30,
	}
}

// sanitize fills in defaults and clamps every limit to what the reader can
// represent.
func (l Limits) sanitize() Limits {
	d := DefaultLimits()
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = d.MaxBulkLen
	}
	if l.MaxArgs <= 0 {
		l.MaxArgs = d.MaxArgs
	}
	if l.MaxInlineLen <= 0 {
		l.MaxInlineLen = d.MaxInlineLen
	}
	if l.MaxQueryLen <= 0 {
		l.MaxQueryLen = d.MaxQueryLen
	}
	l.MaxBulkLen = min(l.MaxBulkLen, maxLenLimit)
	l.MaxQueryLen = min(l.MaxQueryLen, maxLenLimit)
	l.MaxInlineLen = min(l.MaxInlineLen, maxLenLimit)
	l.MaxArgs = min(l.MaxArgs, math.MaxInt32) // Redis caps the count at INT_MAX
	return l
}
