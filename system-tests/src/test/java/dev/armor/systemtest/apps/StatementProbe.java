package dev.armor.systemtest.apps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A function for a database server under test ({@code CREATE ALIAS SLEEP FOR
 * 'dev.armor.systemtest.apps.StatementProbe.sleep'}): a statement that calls it says it is running on the server (it
 * creates the file {@code marker}) and then takes {@code millis}. A test kills the server once the file exists: the
 * statement is then surely in flight, whatever the load on the host.
 */
public final class StatementProbe {

  private StatementProbe() {}

  public static Long sleep(long millis, String marker) throws IOException, InterruptedException {
    Files.writeString(Path.of(marker), "running\n");
    Thread.sleep(millis);
    return null;
  }
}
