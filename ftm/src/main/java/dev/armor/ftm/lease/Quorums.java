package dev.armor.ftm.lease;

/**
 * How many witnesses must agree, out of the {@code members} a node counts (its cluster members that are up or
 * leaving: joining and weakly-up members wait for convergence, which no partitioned member lets happen, so two
 * sides never count a member the other has not seen).
 *
 * <p>Why no schedule gives two instances: a node is declared lost only by a majority of witnesses that each granted
 * it nothing for its lease plus the margin and from then on refuse it. A lease held on grants from a majority
 * shares at least one witness with every such vote: that witness either granted before it voted (so the lease ended
 * before the vote) or voted first (so it refused the grant). With two members no vote is possible (it would need
 * the node's own witness, which never declares a running node lost), so there a node's own grant is its lease.
 */
final class Quorums {

  private Quorums() {}

  /** Grants a lease needs. */
  static int toHold(int members) {
    return members <= 2 ? 1 : members / 2 + 1;
  }

  /** Lost verdicts a vote needs; 0 when no vote can be held (fewer than three members). */
  static int toDeclareLost(int members) {
    return members <= 2 ? 0 : members / 2 + 1;
  }
}
