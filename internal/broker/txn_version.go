package broker

// Transactions version (the feature transaction.version, KIP-890 part 2).
//
// ApiVersions (version 3 and later) lists transaction.version among the
// supported features (levels 0-2) and finalizes the level configured,
// Config.TransactionVersion:
//
//   - 2, the default, as in a new Kafka 4 cluster: the versions of
//     KIP-890 part 2 are advertised, Produce 12, TxnOffsetCommit 5 and
//     EndTxn 5. A client that sees level 2 and those versions (franz-go
//     1.19+, the Java client 4.0+) sends no AddPartitionsToTxn or
//     AddOffsetsToTxn: the first Produce of a transaction to a partition
//     adds the partition (txn.Coordinator.AddToTransaction, durable
//     before the records are appended), as does a TxnOffsetCommit for the
//     group's offsets partition; and every EndTxn bumps the producer's
//     epoch, so that nothing late of one transaction can land in the
//     next: its epoch is stale there.
//   - 1: those versions are not advertised (Produce 11, TxnOffsetCommit
//     4, EndTxn 4), and every client adds partitions explicitly, with the
//     partitions' verification of KIP-890 part 1 (txn.VerifyProduce).
//
// Either way a transactional produce is verified and appended while
// txnAppendMu is held shared, and the markers of a transaction are
// appended while it is held exclusively: a produce verified while its
// transaction was ongoing is appended before the transaction's marker in
// the partition, never after it, where it would begin a transaction the
// coordinator does not know (a hanging transaction, which holds the last
// stable offset back forever). TxnOffsetCommit gets the same from
// offsetsMu, under which it is verified and staged and the marker of
// __consumer_offsets appended.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The levels of transaction.version.
const (
	// TransactionVersionDefault is Config.TransactionVersion when zero.
	TransactionVersionDefault = 2
	// transactionVersionMax is the highest level supported.
	transactionVersionMax = 2
	// transactionVersionFeature is the feature's name in ApiVersions.
	transactionVersionFeature = "transaction.version"
	// finalizedFeaturesEpoch is the epoch of the finalized features: a
	// node's features do not change while it runs.
	finalizedFeaturesEpoch = 1
)

// validate reports a configuration the broker cannot serve.
func (c Config) validate() error {
	if c.TransactionVersion < 1 || c.TransactionVersion > transactionVersionMax {
		return fmt.Errorf("transaction version %d: want 1 or 2", c.TransactionVersion)
	}
	if err := c.Transactions.Validate(); err != nil {
		return err
	}
	return nil
}

// txnVersioned returns v2 as a handler's highest version under
// transactions version 2, v1 under version 1.
func (b *Broker) txnVersioned(v2, v1 int16) int16 {
	if b.cfg.TransactionVersion >= 2 {
		return v2
	}
	return v1
}

// addFeatures lists the features in an ApiVersions response (ignored
// before version 3).
func (b *Broker) addFeatures(resp *kmsg.ApiVersionsResponse) {
	supported := kmsg.NewApiVersionsResponseSupportedFeature()
	supported.Name, supported.MinVersion, supported.MaxVersion = transactionVersionFeature, 0, transactionVersionMax
	resp.SupportedFeatures = append(resp.SupportedFeatures, supported)
	finalized := kmsg.NewApiVersionsResponseFinalizedFeature()
	finalized.Name = transactionVersionFeature
	finalized.MinVersionLevel, finalized.MaxVersionLevel = b.cfg.TransactionVersion, b.cfg.TransactionVersion
	resp.FinalizedFeatures = append(resp.FinalizedFeatures, finalized)
	resp.FinalizedFeaturesEpoch = finalizedFeaturesEpoch
}
