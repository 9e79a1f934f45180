package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * {@code JdbcClient URL}: an unmodified JDBC client on one connection, as an app without a pool uses one. Reads
 * SQL statements from stdin, one per line, runs each, and prints {@code OK n=UPDATE_COUNT ms} or {@code ERROR
 * type=CLASS sqlstate=STATE message=... ms}; after an error it opens a new connection for the next statement, as
 * an app (or its pool) does. {@code COUNT table} prints {@code ROWS n}.
 */
public final class JdbcClient {

  public static void main(String[] args) throws Exception {
    String url = args[0];
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    Connection connection = DriverManager.getConnection(url, "sa", "");
    System.out.println("READY");
    System.out.flush();
    for (String sql = commands.readLine(); sql != null; sql = commands.readLine()) {
      long start = System.nanoTime();
      try {
        if (connection == null) {
          connection = DriverManager.getConnection(url, "sa", "");
        }
        try (Statement statement = connection.createStatement()) {
          if (sql.startsWith("COUNT ")) {
            var rows = statement.executeQuery("SELECT COUNT(*) FROM " + sql.substring(6));
            rows.next();
            System.out.println("ROWS " + rows.getLong(1));
          } else {
            int n = statement.executeUpdate(sql);
            System.out.println("OK n=" + n + " " + (System.nanoTime() - start) / 1_000_000);
          }
        }
      } catch (SQLException e) {
        System.out.println("ERROR type=" + e.getClass().getName() + " sqlstate=" + e.getSQLState() + " message="
            + e.getMessage().replace('\n', ' ') + " " + (System.nanoTime() - start) / 1_000_000);
        if (connection != null) {
          try {
            connection.close();
          } catch (SQLException | RuntimeException ignored) {
            // the connection is broken: that is why it is replaced
          }
          connection = null;
        }
      }
      System.out.flush();
    }
  }
}
