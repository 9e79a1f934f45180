package dev.armor.execution;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A protected app run as another user of its node ({@code armor run --user NAME}): its command goes through
 * util-linux's {@code setpriv}, which sets the user's uid, primary group and supplementary groups and then executes
 * the command in the same process, so the pid the Execution ARMOR watches, signals and stops is the app's. Only a
 * daemon running as root can do it; a user that does not exist on the node, or a daemon of another user, fails the
 * launch with a message saying which. The user's ids are looked up with {@code id}, as the system's other tools do
 * (the name service, not only {@code /etc/passwd}).
 */
public final class RunAs {

  /** A user name as POSIX tools accept it: no option, no path, no shell syntax. */
  private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}\\$?");

  private RunAs() {}

  /** Whether {@code name} has the form of a user name. */
  public static boolean isUserName(String name) {
    return USER_NAME.matcher(name).matches();
  }

  /** Whether {@code user} (empty: none) means another user than the one this process runs as. */
  public static boolean isOtherUser(String user) {
    return !user.isEmpty() && !user.equals(System.getProperty("user.name"));
  }

  /**
   * {@code command} as {@code user} runs it; unchanged when {@code user} is empty or this process's own.
   *
   * @throws IOException the user does not exist here, or this process may not switch to it
   */
  public static List<String> command(String user, List<String> command) throws IOException {
    if (!isOtherUser(user)) {
      return command;
    }
    if (!isUserName(user)) {
      throw new IOException("'" + user + "' is not a user name");
    }
    String self = System.getProperty("user.name");
    if (!"root".equals(self)) {
      throw new IOException("running it as user " + user + " needs the daemon to run as root, and it runs as " + self);
    }
    List<String> switched = new ArrayList<>(List.of("setpriv", "--reuid=" + id(user, "-u"), "--regid=" + id(user, "-g"),
        "--init-groups", "--"));
    switched.addAll(command);
    return switched;
  }

  /** {@code id FLAG -- user}: the user's uid or primary gid. */
  private static String id(String user, String flag) throws IOException {
    Process id = new ProcessBuilder("id", flag, "--", user).redirectErrorStream(true).start();
    try {
      if (!id.waitFor(10, TimeUnit.SECONDS)) {
        id.destroyForcibly();
        throw new IOException("looking up user " + user + " took over 10 s");
      }
      String out = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (id.exitValue() != 0 || !out.matches("\\d+")) {
        throw new IOException("no user " + user + " on this node (" + out + ")");
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while looking up user " + user, e);
    }
  }
}
