package dev.armor.cli;

import com.google.protobuf.util.JsonFormat;
import dev.armor.elements.control.StatusRequest;
import dev.armor.elements.wire.ClusterMember;
import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.ConnectionStatus;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessInfo;
import dev.armor.elements.wire.ServiceEntry;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", description = "Nodes, ARMORs, protected processes, APP_SERVER_DB and proxied connections.")
final class StatusCommand implements Callable<Integer> {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  @Mixin FtmAddress ftm;

  @Option(names = "--json", description = "Print JSON (the ClusterStatus message of armor.proto).")
  boolean json;

  @Override
  public Integer call() throws Exception {
    ClusterStatus status;
    try (FtmClient client = new FtmClient(ftm.target())) {
      try {
        status = client.stub(15).status(StatusRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        throw new ArmorCliException(client.explain(e));
      }
    }
    if (json) {
      System.out.println(JsonFormat.printer().includingDefaultValueFields().print(status));
    } else {
      print(status, System.out);
    }
    return 0;
  }

  /**
   * One line on the membership: how many members and in what state, and whether it converged (a member that is not
   * up everywhere, or unreachable, is named).
   */
  static String clusterLine(ClusterStatus status) {
    List<String> odd = new ArrayList<>();
    for (ClusterMember m : status.getMembersList()) {
      if (!m.getStatus().equals("up") || !m.getReachable()) {
        odd.add(m.getAddress() + " " + m.getStatus() + (m.getReachable() ? "" : ", unreachable"));
      }
    }
    return "Cluster: " + status.getMembersCount() + " member(s)"
        + (odd.isEmpty() ? ", all up" : "; " + String.join("; ", odd))
        + (status.getConverged() ? "; converged" : "; not converged yet (membership changes wait for it)");
  }

  static void print(ClusterStatus status, PrintStream out) {
    out.println("FTM running on " + status.getFtmNode());
    if (status.getMembersCount() > 0) {
      out.println(clusterLine(status));
    }
    Table nodes = new Table("NODE", "ADDRESS", "DATA PLANE", "REACHABLE", "DAEMON PID", "LAST HEARTBEAT");
    Table processes = new Table("ARMOR", "NODE", "PID", "ALIVE", "STATE", "RESTARTS", "COMMAND");
    Table connections = new Table("CONNECTION", "NODE", "SIDE", "SERVICE", "CLIENT", "STATE", "TO SERVER", "TO CLIENT", "RE-ATTACHED");
    for (NodeStatus node : status.getNodesList()) {
      nodes.add(node.getNode(), node.getHost(), node.getDataAddress(), node.getReachable() ? "yes" : "NO", "" + node.getPid(),
          node.getHeartbeatAgeMillis() < 0 ? "-" : node.getHeartbeatAgeMillis() + " ms ago");
      for (ProcessInfo p : node.getProcessesList()) {
        processes.add(p.getArmorId(), p.getNode(), "" + p.getPid(), p.getAlive() ? "yes" : "no", p.getState(),
            "" + p.getRestarts(), abbreviate(String.join(" ", p.getCommandList()), 60));
      }
      for (ConnectionStatus c : node.getConnectionsList()) {
        connections.add(c.getId(), c.getNode(), c.getSide(), c.getService(), c.getClient(), c.getState(),
            "" + c.getBytesToServer(), "" + c.getBytesToClient(), "" + c.getReattachments());
      }
    }
    Table services = new Table("SERVICE", "STATE", "RECOVERY", "ARMOR", "NODE", "PID", "INCARNATION", "CLIENT NODES", "SINCE", "WHY");
    for (ServiceEntry s : status.getServicesList()) {
      services.add(s.getService(), s.getState().name(), recovery(s), s.getArmorId(), s.getNode(), "" + s.getPid(), "" + s.getIncarnation(),
          String.join(",", s.getClientNodesList()), TIME.format(Instant.ofEpochMilli(s.getChangedAtMillis())), s.getReason());
    }
    Table events = new Table("TIME", "ARMOR", "NODE", "EVENT", "PID", "DETAIL");
    for (ProcessEvent e : status.getEventsList().subList(0, Math.min(15, status.getEventsCount()))) {
      events.add(TIME.format(Instant.ofEpochMilli(e.getAtMillis())), e.getArmorId(), e.getNode(), e.getKind().name(),
          "" + e.getPid(), e.getDetail());
    }
    out.println();
    out.println("NODES");
    nodes.print(out);
    out.println();
    out.println("APP_SERVER_DB");
    services.print(out);
    out.println();
    out.println("PROTECTED PROCESSES");
    processes.print(out);
    out.println();
    out.println("PROXIED CONNECTIONS");
    connections.print(out);
    out.println();
    out.println("RECENT EVENTS");
    events.print(out);
  }

  /** The service's recovery policy, and its protocol when one was named (not auto): "reconnect, generic". */
  private static String recovery(ServiceEntry service) {
    String policy = service.getRecovery().name().toLowerCase(java.util.Locale.ROOT);
    return service.getProtocol() == dev.armor.elements.wire.AppProtocol.PROTOCOL_AUTO ? policy
        : policy + ", " + service.getProtocol().name().substring("PROTOCOL_".length()).toLowerCase(java.util.Locale.ROOT);
  }

  private static String abbreviate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max - 3) + "...";
  }

  /** A plain text table with columns as wide as their widest cell. */
  private static final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
      rows.add(header);
    }

    void add(String... cells) {
      rows.add(cells);
    }

    void print(PrintStream out) {
      if (rows.size() == 1) {
        out.println("  (none)");
        return;
      }
      int[] widths = new int[rows.get(0).length];
      for (String[] row : rows) {
        for (int i = 0; i < row.length; i++) {
          widths[i] = Math.max(widths[i], row[i].length());
        }
      }
      for (String[] row : rows) {
        StringBuilder line = new StringBuilder("  ");
        for (int i = 0; i < row.length; i++) {
          line.append(String.format("%-" + (widths[i] + 2) + "s", row[i]));
        }
        out.println(line.toString().stripTrailing());
      }
    }
  }
}
