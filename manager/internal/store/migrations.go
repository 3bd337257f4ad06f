package store

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// migrations[i] brings the schema from version i to i+1. Append only; each
// needs a case in TestMigrations.
var migrations = []func(*bolt.Tx) error{
	// 0 -> 1: the initial buckets.
	func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketRoot)
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketImages, bucketNames, bucketSnapshots} {
			if _, err := root.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 1 -> 2: containers and their name index.
	// (2 -> 3 follows: volumes.)
	func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketRoot)
		for _, b := range [][]byte{bucketContainers, bucketContainerNames} {
			if _, err := root.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 2 -> 3: volumes.
	func(tx *bolt.Tx) error {
		_, err := tx.Bucket(bucketRoot).CreateBucketIfNotExists(bucketVolumes)
		return err
	},
}

// SchemaVersion is the version this build writes.
func SchemaVersion() int { return len(migrations) }

func schemaVersion(tx *bolt.Tx) (int, error) {
	root := tx.Bucket(bucketRoot)
	if root == nil {
		return 0, nil
	}
	v := root.Get(keyVersion)
	if v == nil {
		return 0, nil
	}
	return strconv.Atoi(string(v))
}

func migrate(tx *bolt.Tx) error {
	have, err := schemaVersion(tx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("metadata schema version %d is newer than this mgr understands (%d); upgrade mgr", have, len(migrations))
	}
	for v := have; v < len(migrations); v++ {
		if err := migrations[v](tx); err != nil {
			return fmt.Errorf("migrate metadata schema %d -> %d: %w", v, v+1, err)
		}
	}
	if have == len(migrations) {
		return nil
	}
	return tx.Bucket(bucketRoot).Put(keyVersion, []byte(strconv.Itoa(len(migrations))))
}
