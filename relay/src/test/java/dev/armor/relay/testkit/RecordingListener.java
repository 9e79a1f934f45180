package dev.armor.relay.testkit;

import dev.armor.relay.ConnectionInfo;
import dev.armor.relay.RelayListener;
import dev.armor.relay.ServiceAddress;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/** Records the relay's events for assertions. */
public final class RecordingListener implements RelayListener {

  /** {@code info} is the connection's snapshot at the event (null for locationNeeded). */
  public record Event(String kind, String connectionId, ServiceAddress service, String reason, ConnectionInfo info) {}

  public final Queue<Event> events = new ConcurrentLinkedQueue<>();

  @Override
  public void locationNeeded(ServiceAddress service) {
    events.add(new Event("locationNeeded", null, service, null, null));
  }

  @Override
  public void connectionAttached(ConnectionInfo connection) {
    events.add(new Event("attached", connection.id(), connection.service(), null, connection));
  }

  @Override
  public void connectionHeld(ConnectionInfo connection, String reason) {
    events.add(new Event("held", connection.id(), connection.service(), reason, connection));
  }

  @Override
  public void connectionClosed(ConnectionInfo connection, String reason) {
    events.add(new Event("closed", connection.id(), connection.service(), reason, connection));
  }

  public boolean has(String kind, ServiceAddress service) {
    return events.stream().anyMatch(e -> e.kind().equals(kind) && service.equals(e.service()));
  }

  public boolean has(String kind, ServiceAddress service, String reasonFragment) {
    return events.stream()
        .anyMatch(
            e ->
                e.kind().equals(kind)
                    && service.equals(e.service())
                    && e.reason() != null
                    && e.reason().contains(reasonFragment));
  }
}
