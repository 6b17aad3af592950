package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordFormat is a compiled --format: literal text and placeholders,
// written for each record. The placeholders are
//
//	%k  key          %v  value        %h  headers, as name=value,name=value
//	%o  offset       %p  partition    %t  timestamp (Unix milliseconds)
//	%T  topic        %%  a percent sign
//
// and the escapes \n (newline), \t (tab), \r (carriage return) and \\ (a
// backslash). A null key or value writes nothing.
type recordFormat []formatPart

// formatPart is literal text, or a placeholder when field is not 0.
type formatPart struct {
	literal []byte
	field   byte
}

// defaultFormat is what `weir consume` writes without --format or
// --output json: each value on its own line.
const defaultFormat = `%v\n`

// compileFormat parses a --format string.
func compileFormat(s string) (recordFormat, error) {
	var parts recordFormat
	var literal []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' && c != '\\' {
			literal = append(literal, c)
			continue
		}
		if i+1 == len(s) {
			return nil, fmt.Errorf("--format %q: %q at the end", s, c)
		}
		i++
		next := s[i]
		if c == '\\' {
			e, ok := formatEscapes[next]
			if !ok {
				return nil, fmt.Errorf("--format %q: unknown escape \\%c (want \\n, \\t, \\r or \\\\)", s, next)
			}
			literal = append(literal, e)
			continue
		}
		if next == '%' {
			literal = append(literal, '%')
			continue
		}
		if !formatFields[next] {
			return nil, fmt.Errorf("--format %q: unknown placeholder %%%c (want %%k, %%v, %%h, %%o, %%p, %%t, %%T or %%%%)", s, next)
		}
		if len(literal) > 0 {
			parts = append(parts, formatPart{literal: literal})
			literal = nil
		}
		parts = append(parts, formatPart{field: next})
	}
	if len(literal) > 0 {
		parts = append(parts, formatPart{literal: literal})
	}
	if len(parts) == 0 {
		return nil, errors.New("--format: empty")
	}
	return parts, nil
}

var (
	formatEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '\\': '\\'}
	formatFields  = map[byte]bool{'k': true, 'v': true, 'h': true, 'o': true, 'p': true, 't': true, 'T': true}
)

// appendRecord appends the record written in the format to b.
func (f recordFormat) appendRecord(b []byte, r *kgo.Record) []byte {
	for _, part := range f {
		switch part.field {
		case 0:
			b = append(b, part.literal...)
		case 'k':
			b = append(b, r.Key...)
		case 'v':
			b = append(b, r.Value...)
		case 'h':
			for i, h := range r.Headers {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, h.Key...)
				b = append(b, '=')
				b = append(b, h.Value...)
			}
		case 'o':
			b = strconv.AppendInt(b, r.Offset, 10)
		case 'p':
			b = strconv.AppendInt(b, int64(r.Partition), 10)
		case 't':
			b = strconv.AppendInt(b, r.Timestamp.UnixMilli(), 10)
		case 'T':
			b = append(b, r.Topic...)
		}
	}
	return b
}
