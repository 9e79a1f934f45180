package dev.armor.elements;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.armor.elements.wire.Operation;

/** Operation types, in one place, and helpers to build and read operations. */
public final class Ops {

  private Ops() {}

  // APP_SERVER_DB (in the FTM)
  public static final String REGISTER_SERVICE = "app_server_db.register";
  public static final String UNREGISTER_SERVICE = "app_server_db.unregister";
  public static final String LOOKUP_SERVICE = "app_server_db.lookup";
  public static final String CLIENT_INTEREST = "app_server_db.client_interest";
  public static final String REASSIGN_SERVICES = "app_server_db.reassign";
  public static final String FAIL_SERVICES = "app_server_db.fail";

  // The FTM's own operations
  public static final String REGISTER_DAEMON = "ftm.register_daemon";
  /** How the FTM's answer to {@link #REGISTER_DAEMON} starts when it refuses for good: the daemon stops, not retries. */
  public static final String REGISTRATION_REFUSED = "registration refused: ";
  public static final String LAUNCH = "ftm.launch";
  public static final String STATUS = "ftm.status";
  public static final String STOP_ARMOR = "ftm.stop_armor";
  /** armor move: a planned move of one Execution ARMOR's work to another node ({@code MoveRequest}, {@code Moved}). */
  public static final String MOVE_ARMOR = "ftm.move_armor";
  /** armor drain: every Execution ARMOR of a node moved off it ({@code DrainRequest}, {@code Drained}). */
  public static final String DRAIN_NODE = "ftm.drain_node";
  /** armor undrain: a drained node takes work again ({@code DrainRequest}, {@code Drained} without moves). */
  public static final String UNDRAIN_NODE = "ftm.undrain_node";
  /** The old instance of a planned move was stopped (or not): to the FTM itself ({@code ProcessEvent} of the new ARMOR). */
  public static final String MOVE_OLD_STOPPED = "ftm.move_old_stopped";
  public static final String AGENT_OPTIONS = "ftm.agent_options";
  public static final String PROCESS_EVENT = "ftm.process_event";
  public static final String MEMBER_CHANGE = "ftm.member_change";
  public static final String HEARTBEAT_TICK = "ftm.heartbeat_tick";
  public static final String HEARTBEAT_ANSWERED = "ftm.heartbeat_answered";
  public static final String RECONCILE_REPORT = "ftm.reconcile_report";
  public static final String MIGRATION_INSTALLED = "ftm.migration_installed";
  public static final String MIGRATION_WRITTEN = "ftm.migration_written";
  /**
   * An Execution ARMOR whose app halted itself (fenced: its daemon was gone or frozen) asks whether its work is still
   * its node's before it restarts it ({@code RestartPermission}, answered with a {@code RestartAnswer}).
   */
  public static final String MAY_RESTART = "ftm.may_restart";
  /** A majority acknowledged (or not) the FTM's write made before it grants a {@link #MAY_RESTART}; to itself. */
  public static final String RESTART_CONFIRMED = "ftm.restart_confirmed";

  // APP_COMM_CLIENT (in each daemon): the FTM tells where a service is, or that it is down
  public static final String SERVICE_LOCATED = "app_comm_client.service_located";
  public static final String SERVICE_RECOVERING = "app_comm_client.service_recovering";
  public static final String SERVICE_FAILED = "app_comm_client.service_failed";

  // APP_COMM_CLIENT, inside its daemon
  public static final String LOCATION_NEEDED = "app_comm_client.location_needed";

  // APP_COMM_SERVER, inside its daemon: requests from the shim endpoint on behalf of local apps
  public static final String APP_LISTENING = "app_comm_server.listening";
  public static final String APP_REGISTERED = "app_comm_server.registered";
  public static final String SESSION_CLOSED = "app_comm_server.session_closed";
  public static final String APP_UNLISTENED = "app_comm_server.unlistened";
  public static final String APP_UNREGISTERED = "app_comm_server.unregistered";

  // The daemon's own operations
  public static final String INSTALL_EXECUTION_ARMOR = "daemon.install_execution_armor";
  public static final String DAEMON_REPORT = "daemon.report";
  public static final String DAEMON_HEARTBEAT = "daemon.heartbeat";

  // Execution ARMOR
  public static final String LAUNCH_PROCESS = "execution.launch";
  public static final String PROCESS_EXITED = "execution.exited";
  public static final String RESTART_DUE = "execution.restart_due";
  public static final String STOP_PROCESS = "execution.stop";
  public static final String DESCRIBE_PROCESS = "execution.describe";
  /** A heartbeat of the protected process's shim, forwarded by its daemon's shim endpoint. */
  public static final String PROCESS_HEARTBEAT = "execution.heartbeat";
  /** The Execution ARMOR's own timer: has the process been silent for its hang timeout? */
  public static final String HANG_CHECK = "execution.hang_check";
  /** The Execution ARMOR's own timer: time to sample the process's sockets for the progress watch. */
  public static final String PROGRESS_CHECK = "execution.progress_check";
  /** A sample of the process's sockets (an {@code AppSockets}), taken off the ARMOR's thread. */
  public static final String PROGRESS_SAMPLED = "execution.progress_sampled";
  /** The FTM's answer to {@link #MAY_RESTART} (or its absence), piped back to the asking ARMOR. */
  public static final String RESTART_ANSWERED = "execution.restart_answered";

  public static Operation of(String type, Message argument) {
    return Operation.newBuilder().setType(type).setArgument(Any.pack(argument)).build();
  }

  /** Reads an operation's argument as {@code type}; a mismatch is a malformed message, said as such. */
  public static <T extends Message> T argument(Operation operation, Class<T> type) {
    try {
      return operation.getArgument().unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedMessageException(
          "operation " + operation.getType() + " does not carry a " + type.getSimpleName() + ": " + e.getMessage());
    }
  }

  /** Reads a payload as {@code type}. */
  public static <T extends Message> T unpack(Any payload, Class<T> type) {
    try {
      return payload.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedMessageException("payload is not a " + type.getSimpleName() + ": " + e.getMessage());
    }
  }

  /** A message that does not have the shape its operation type promises. */
  public static final class MalformedMessageException extends RuntimeException {
    public MalformedMessageException(String message) {
      super(message);
    }
  }
}
