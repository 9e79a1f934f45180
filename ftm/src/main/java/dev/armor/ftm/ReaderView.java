package dev.armor.ftm;

import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.NodeStatus;
import dev.armor.elements.wire.ProcessEvent;
import dev.armor.elements.wire.ProcessInfo;
import java.util.List;
import java.util.Map;

/**
 * Status as a read-only viewer sees it: each protected process's command line cut to its program's name. A command
 * line carries whatever the operator passed the app (a password on the command line, a database URL with its
 * credentials, a token), and a reader's certificate is made to be handed out more widely than the operator's; the
 * program name is enough to tell the processes apart. Everything else of the status is left as it is.
 */
final class ReaderView {

  private ReaderView() {}

  /**
   * {@code status} with every process's command, and the command at the end of each event's detail (a start reports
   * "started: COMMAND"), hidden.
   *
   * @param launched each ARMOR's launch command, as the FTM holds it (the events of ARMORs that have ended too)
   */
  static ClusterStatus of(ClusterStatus status, Map<String, List<String>> launched) {
    ClusterStatus.Builder view = status.toBuilder().clearNodes().clearEvents();
    for (NodeStatus node : status.getNodesList()) {
      NodeStatus.Builder shown = node.toBuilder().clearProcesses();
      for (ProcessInfo process : node.getProcessesList()) {
        shown.addProcesses(process.toBuilder().clearCommand().addAllCommand(hide(process.getCommandList())));
      }
      view.addNodes(shown);
    }
    for (ProcessEvent event : status.getEventsList()) {
      List<String> command = launched.get(event.getArmorId());
      String full = command == null || command.isEmpty() ? null : ": " + String.join(" ", command);
      view.addEvents(full != null && event.getDetail().endsWith(full)
          ? event.toBuilder().setDetail(event.getDetail().substring(0, event.getDetail().length() - full.length())
              + ": " + String.join(" ", hide(command))).build()
          : event);
    }
    return view.build();
  }

  /** The program's file name, and how many arguments were left out. */
  static List<String> hide(List<String> command) {
    if (command.isEmpty()) {
      return command;
    }
    String program = command.get(0);
    String name = program.substring(program.lastIndexOf('/') + 1);
    int arguments = command.size() - 1;
    return arguments == 0 ? List.of(name)
        : List.of(name, "(" + arguments + (arguments == 1 ? " argument" : " arguments") + " hidden from readers)");
  }
}
