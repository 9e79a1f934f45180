package dev.armor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.elements.wire.ClusterMember;
import dev.armor.elements.wire.ClusterStatus;
import org.junit.jupiter.api.Test;

class StatusMembershipLineTest {

  private static ClusterMember member(String address, String status, boolean reachable) {
    return ClusterMember.newBuilder().setAddress(address).setStatus(status).setReachable(reachable).build();
  }

  @Test
  void aConvergedClusterOfUpMembers_isOneShortLine() {
    ClusterStatus status = ClusterStatus.newBuilder().setConverged(true)
        .addMembers(member("10.0.0.1:25520", "up", true)).addMembers(member("10.0.0.2:25520", "up", true)).build();
    assertThat(StatusCommand.clusterLine(status)).isEqualTo("Cluster: 2 member(s), all up; converged");
  }

  @Test
  void aJoiningOrUnreachableMember_isNamed_andTheClusterIsNotConverged() {
    ClusterStatus status = ClusterStatus.newBuilder().setConverged(false)
        .addMembers(member("10.0.0.1:25520", "up", true))
        .addMembers(member("10.0.0.2:25520", "joining", true))
        .addMembers(member("10.0.0.3:25520", "up", false)).build();
    assertThat(StatusCommand.clusterLine(status)).isEqualTo("Cluster: 3 member(s); 10.0.0.2:25520 joining; "
        + "10.0.0.3:25520 up, unreachable; not converged yet (membership changes wait for it)");
  }
}
