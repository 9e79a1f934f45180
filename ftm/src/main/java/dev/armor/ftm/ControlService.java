package dev.armor.ftm;

import com.google.protobuf.Message;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.ArmorIds;
import dev.armor.elements.ArmorRequestException;
import dev.armor.elements.Armors;
import dev.armor.elements.Ops;
import dev.armor.elements.control.AgentOptionsReply;
import dev.armor.elements.control.AgentOptionsRequest;
import dev.armor.elements.control.ArmorControlGrpc;
import dev.armor.elements.control.ArmorStopping;
import dev.armor.elements.control.ClusterInfo;
import dev.armor.elements.control.DrainRequest;
import dev.armor.elements.control.Drained;
import dev.armor.elements.control.GetClusterRequest;
import dev.armor.elements.control.LaunchRequest;
import dev.armor.elements.control.MoveRequest;
import dev.armor.elements.control.Moved;
import dev.armor.elements.control.StatusRequest;
import dev.armor.elements.control.StopArmorRequest;
import dev.armor.elements.wire.ClusterStatus;
import dev.armor.elements.wire.ProcessLaunched;
import dev.armor.security.ControlAccess;
import dev.armor.security.Identity;
import dev.armor.security.Role;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FTM's gRPC control API. Each call becomes one operation sent to the FTM singleton (wherever it runs);
 * failures become a gRPC {@link Status} whose description says what the FTM found.
 */
final class ControlService extends ArmorControlGrpc.ArmorControlImplBase {

  private static final Logger log = LoggerFactory.getLogger(ControlService.class);

  /**
   * Who may call what: launching, stopping and a node's agent options (they name its shim socket) need the operator;
   * status may be read by a reader too; where the cluster is, any of the cluster's certificates (a joining daemon
   * asks it with its node certificate).
   */
  static final ControlAccess ACCESS = new ControlAccess(Map.of(
      ArmorControlGrpc.getGetClusterMethod().getFullMethodName(), EnumSet.allOf(Role.class),
      ArmorControlGrpc.getStatusMethod().getFullMethodName(), EnumSet.of(Role.OPERATOR, Role.READER),
      ArmorControlGrpc.getLaunchMethod().getFullMethodName(), EnumSet.of(Role.OPERATOR),
      ArmorControlGrpc.getStopArmorMethod().getFullMethodName(), EnumSet.of(Role.OPERATOR),
      ArmorControlGrpc.getAgentOptionsMethod().getFullMethodName(), EnumSet.of(Role.OPERATOR),
      ArmorControlGrpc.getMoveMethod().getFullMethodName(), EnumSet.of(Role.OPERATOR),
      ArmorControlGrpc.getDrainMethod().getFullMethodName(), EnumSet.of(Role.OPERATOR),
      ArmorControlGrpc.getUndrainMethod().getFullMethodName(), EnumSet.of(Role.OPERATOR)));

  private static final Duration LAUNCH_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  /** A planned move waits for the new instance to serve (its start) and the old one to stop (its grace). */
  static final Duration MOVE_TIMEOUT = Duration.ofSeconds(120);

  private final ActorRef<ArmorActor.Command> ftm;
  private final Scheduler scheduler;
  private final List<String> seedNodes;
  private final String caller;

  ControlService(ActorRef<ArmorActor.Command> ftm, Scheduler scheduler, List<String> seedNodes, String caller) {
    this.ftm = ftm;
    this.scheduler = scheduler;
    this.seedNodes = seedNodes;
    this.caller = caller;
  }

  @Override
  public void getCluster(GetClusterRequest request, StreamObserver<ClusterInfo> response) {
    response.onNext(ClusterInfo.newBuilder().setSystemName(ClusterNodeConfig.SYSTEM_NAME).addAllSeedNodes(seedNodes).build());
    response.onCompleted();
  }

  @Override
  public void launch(LaunchRequest request, StreamObserver<ProcessLaunched> response) {
    // The program only: arguments and the environment may carry secrets.
    log.info("launch of {} on node {} requested by {}",
        request.getCommandCount() == 0 ? "(no command)" : request.getCommand(0), request.getNode(), principal());
    call(Ops.LAUNCH, request, ProcessLaunched.class, LAUNCH_TIMEOUT, response);
  }

  @Override
  public void status(StatusRequest request, StreamObserver<ClusterStatus> response) {
    boolean operator = ControlAccess.caller().map(caller -> caller.role() == Role.OPERATOR).orElse(false);
    call(Ops.STATUS, request.toBuilder().setHideArguments(!operator).build(), ClusterStatus.class, REQUEST_TIMEOUT,
        response);
  }

  @Override
  public void stopArmor(StopArmorRequest request, StreamObserver<ArmorStopping> response) {
    log.info("stop of {} requested by {}", request.getArmorId(), principal());
    call(Ops.STOP_ARMOR, request, ArmorStopping.class, REQUEST_TIMEOUT, response);
  }

  @Override
  public void move(MoveRequest request, StreamObserver<Moved> response) {
    log.info("move of {} to {} requested by {}", request.getArmorId(),
        request.getToNode().isEmpty() ? "the least loaded node" : "node " + request.getToNode(), principal());
    call(Ops.MOVE_ARMOR, request, Moved.class, MOVE_TIMEOUT, response);
  }

  @Override
  public void drain(DrainRequest request, StreamObserver<Drained> response) {
    log.info("drain of node {} requested by {}", request.getNode(), principal());
    call(Ops.DRAIN_NODE, request, Drained.class, MOVE_TIMEOUT, response);
  }

  @Override
  public void undrain(DrainRequest request, StreamObserver<Drained> response) {
    log.info("undrain of node {} requested by {}", request.getNode(), principal());
    call(Ops.UNDRAIN_NODE, request, Drained.class, REQUEST_TIMEOUT, response);
  }

  @Override
  public void agentOptions(AgentOptionsRequest request, StreamObserver<AgentOptionsReply> response) {
    call(Ops.AGENT_OPTIONS, request, AgentOptionsReply.class, REQUEST_TIMEOUT, response);
  }

  private static String principal() {
    return ControlAccess.caller().map(Identity::toString).orElse("(unknown)");
  }

  private <T extends Message> void call(
      String type, Message argument, Class<T> replyType, Duration timeout, StreamObserver<T> response) {
    Armors.request(ftm, Armors.message(caller, ArmorIds.FTM, type, argument), timeout, scheduler)
        .whenComplete(
            (reply, failure) -> {
              if (failure == null) {
                try {
                  response.onNext(Ops.unpack(reply.getPayload(), replyType));
                  response.onCompleted();
                } catch (RuntimeException e) {
                  response.onError(Status.INTERNAL.withDescription(e.getMessage()).asRuntimeException());
                }
                return;
              }
              Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
              Status status =
                  cause instanceof ArmorRequestException
                      ? Status.FAILED_PRECONDITION.withDescription(cause.getMessage())
                      : cause instanceof TimeoutException
                          ? Status.UNAVAILABLE.withDescription(
                              "the FTM did not answer " + type + " within " + timeout.toMillis() + " ms (is an FTM node up?)")
                          : Status.INTERNAL.withDescription(String.valueOf(cause));
              response.onError(status.asRuntimeException());
            });
  }
}
