// Which projections a consumer-group member runs, decided by the events topic's partitions it was
// assigned: projection i (in catalog order) belongs to the holder of partition i mod partitionCount.
// Kafka's group protocol thereby elects exactly one owner per projection and moves ownership when
// members join, leave or die; the projection itself still applies the whole global order under its
// own checkpoint (docs/distributed.md explains why it is not split by partition).

export function ownedProjections<P>(projections: readonly P[], assignedPartitions: readonly number[], partitionCount: number): P[] {
  if (partitionCount < 1) return [];
  const assigned = new Set(assignedPartitions);
  return projections.filter((_, index) => assigned.has(index % partitionCount));
}
