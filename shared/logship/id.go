package logship

import (
	"encoding/binary"
	"time"
)

// IDLength is the length of an event id: a ULID (48-bit millisecond time,
// 80 random bits) in Crockford base32, so ids sort by date as strings.
const IDLength = 26

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// appendID appends the ULID of t and the 10 bytes of entropy to dst.
func appendID(dst []byte, t time.Time, entropy [10]byte) []byte {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	copy(b[6:], entropy[:])
	// 128 bits as 26 base32 digits: the first digit holds the top 3 bits.
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [IDLength]byte
	for i := IDLength - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return append(dst, out[:]...)
}
