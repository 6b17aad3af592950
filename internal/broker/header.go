package broker

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// requestHeader is a request's header: version 1 (api key, api version,
// correlation id, client id) for requests that are not flexible, version 2
// (the same, then tagged fields) for flexible ones (KIP-482).
type requestHeader struct {
	key           int16
	version       int16
	correlationID int32
	clientID      string
	size          int // bytes of the header in the frame
}

// errMalformed marks a frame that cannot be parsed.
var errMalformed = errors.New("malformed request")

// readKeyVersion reads the api key and version at the start of a frame.
func readKeyVersion(frame []byte) (int16, int16, error) {
	r := kbin.Reader{Src: frame}
	key, version := r.Int16(), r.Int16()
	if !r.Ok() {
		return 0, 0, fmt.Errorf("%w: a frame of %d bytes", errMalformed, len(frame))
	}
	return key, version, nil
}

// parseHeader parses the header of a frame whose request is req (its
// version already set, so that req tells whether it is flexible).
func parseHeader(frame []byte, req kmsg.Request) (requestHeader, error) {
	r := kbin.Reader{Src: frame}
	h := requestHeader{key: r.Int16(), version: r.Int16(), correlationID: r.Int32()}
	if id := r.NullableString(); id != nil {
		h.clientID = *id
	}
	if req.IsFlexible() {
		skipTags(&r)
	}
	if !r.Ok() {
		return h, fmt.Errorf("%w: request header of api %d v%d", errMalformed, h.key, h.version)
	}
	h.size = len(frame) - len(r.Src)
	return h, nil
}

// skipTags skips the header's tagged fields (none is defined for requests
// Weir serves). kmsg.SkipTags would loop as many times as the count says
// even once the frame is exhausted, which a hostile count of 2^32 turns
// into seconds of CPU; this loop stops at the end of the frame.
func skipTags(r *kbin.Reader) {
	for n := r.Uvarint(); n > 0 && r.Ok(); n-- {
		r.Uvarint()
		r.Span(int(r.Uvarint()))
	}
}

// appendResponse appends a response frame: size, header (correlation id,
// then tagged fields for flexible responses; ApiVersions always uses
// header version 0, so that any client can read it), body.
func appendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = kbin.AppendInt32(dst, correlationID)
	if resp.IsFlexible() && resp.Key() != kmsg.ApiVersions.Int16() {
		dst = append(dst, 0) // no tagged fields
	}
	dst = resp.AppendTo(dst)
	size := len(dst) - start - 4
	dst[start], dst[start+1], dst[start+2], dst[start+3] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)
	return dst
}
