// Package store keeps the manager's metadata in one bbolt file. Several mgr
// processes (CLI invocations and a daemon) share it, so the file is opened
// only for the length of one transaction, with a lock timeout that turns
// into a clear error instead of a hang. Callers never hold a transaction
// across registry, shim or network I/O: read, act, then write.
package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/sys/unix"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// DefaultLockTimeout is how long a transaction waits for another mgr
// process to release the database.
const DefaultLockTimeout = 10 * time.Second

// DB is the metadata database at one path.
type DB struct {
	path    string
	timeout time.Duration
}

// Option configures a DB.
type Option func(*DB)

// WithLockTimeout sets how long to wait for the file lock.
func WithLockTimeout(d time.Duration) Option { return func(db *DB) { db.timeout = d } }

// Open prepares the database at path, creating it and migrating its schema
// to the current version.
func Open(path string, opts ...Option) (*DB, error) {
	db := &DB{path: path, timeout: DefaultLockTimeout}
	for _, o := range opts {
		o(db)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("metadata dir: %w", err)
	}
	// Check first under a shared lock: most runs need no migration, and a
	// write transaction would cost an fsync on every mgr invocation.
	current := false
	if fileExists(path) {
		if err := db.View(context.Background(), func(tx *bolt.Tx) error {
			v, err := schemaVersion(tx)
			current = err == nil && v == SchemaVersion()
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if !current {
		if err := db.Update(context.Background(), migrate); err != nil {
			return nil, err
		}
	}
	return db, nil
}

type txKey struct{}

// View runs fn in a read-only transaction, or inside the transaction
// already carried by ctx.
func (db *DB) View(ctx context.Context, fn func(*bolt.Tx) error) error {
	if tx, ok := ctx.Value(txKey{}).(*bolt.Tx); ok {
		return fn(tx)
	}
	return db.with(false, func(b *bolt.DB) error { return b.View(fn) })
}

// Update runs fn in a read-write transaction (committed when fn returns
// nil), or inside the writable transaction already carried by ctx.
func (db *DB) Update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if tx, ok := ctx.Value(txKey{}).(*bolt.Tx); ok && tx.Writable() {
		return fn(tx)
	}
	return db.with(true, func(b *bolt.DB) error { return b.Update(fn) })
}

// WithTx returns a context carrying tx, so stores called with it join the
// same transaction and a multi-store change commits atomically.
func WithTx(ctx context.Context, tx *bolt.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

func (db *DB) with(write bool, fn func(*bolt.DB) error) error {
	// Queue on our own lock file first: bbolt retries its flock every
	// 50 ms, which serialises busy mgr processes (50 parallel `run -d`)
	// in 50 ms steps; this waits in steps of 1-8 ms. bbolt's own flock
	// then finds the file free.
	unlock, err := db.lock(write)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := bolt.Open(db.path, 0o600, &bolt.Options{
		Timeout:        db.timeout,
		ReadOnly:       !write && fileExists(db.path),
		NoFreelistSync: true,
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return fmt.Errorf("metadata database %s is locked by another mgr process (waited %s): %w", db.path, db.timeout, errdefs.ErrUnavailable)
		}
		return fmt.Errorf("open metadata database %s: %w", db.path, err)
	}
	err = fn(b)
	if cerr := b.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close metadata database: %w", cerr)
	}
	return err
}

// lock takes the database's lock file, exclusive for writers and shared
// for readers, waiting at most the lock timeout.
func (db *DB) lock(write bool) (func(), error) {
	f, err := os.OpenFile(db.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("metadata lock: %w", err)
	}
	how := unix.LOCK_SH
	if write {
		how = unix.LOCK_EX
	}
	deadline := time.Now().Add(db.timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 8*time.Millisecond) {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("metadata lock: %w", err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("metadata database %s is locked by another mgr process (waited %s): %w", db.path, db.timeout, errdefs.ErrUnavailable)
		}
		time.Sleep(wait)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
