package store

import "errors"

var (
	// ErrClosed is returned by the operations of a DB being closed or
	// closed, and of its stores.
	ErrClosed = errors.New("store: closed")

	// ErrMalformedChange is returned (wrapped) by Restore for a changelog
	// record that does not decode as the store's kind writes it.
	ErrMalformedChange = errors.New("store: malformed changelog record")

	// ErrStoreOpen is returned (wrapped) when a store is opened twice in
	// one DB.
	ErrStoreOpen = errors.New("store: store already open")

	// ErrKindMismatch is returned (wrapped) when a store is opened as a
	// kind other than the one it was created as.
	ErrKindMismatch = errors.New("store: store of another kind")

	// ErrNotState is returned (wrapped) by Destroy for a directory that
	// holds something other than a task's local state.
	ErrNotState = errors.New("store: not a state directory")

	// ErrFormat is returned (wrapped) by Open for local state written in a
	// format this version does not know.
	ErrFormat = errors.New("store: unknown format")
)
