/*
 * Copyright (c) 2026 tunnelwrap developers <dev@tunnelwrap.test>
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * TwProbe - a plain Java client for tests/t-prog-runtimes.sh: the usual
 * ways a Java program reaches a server, each printed as "ok NAME" or
 * "fail NAME -- detail".
 *
 *   java TwProbe ECHOHOST WEBHOST
 *
 * ECHOHOST has an echo server on port 7, WEBHOST a web server on port 80
 * whose index page contains "intranet wiki OK".
 */
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

public class TwProbe {
    static int failures = 0;

    interface Step {
        String run() throws Exception;
    }

    static void step(String name, Step s) {
        try {
            String note = s.run();
            System.out.println("ok " + name + (note == null ? "" : " (" + note + ")"));
        } catch (Throwable e) {
            failures++;
            System.out.println("fail " + name + " -- " + e);
        }
        System.out.flush();
    }

    public static void main(String[] args) {
        final String echo = args[0], web = args[1];

        step("InetAddress.getAllByName", () -> {
            StringBuilder b = new StringBuilder();
            for (InetAddress a : InetAddress.getAllByName(web))
                b.append(a.getHostAddress()).append(' ');
            return b.toString().trim();
        });
        step("java.net.Socket: connect, echo", () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(echo, 7), 20000);
                s.setSoTimeout(20000);
                OutputStream o = s.getOutputStream();
                o.write("ping from java\n".getBytes(StandardCharsets.UTF_8));
                o.flush();
                BufferedReader r = new BufferedReader(new InputStreamReader(
                    s.getInputStream(), StandardCharsets.UTF_8));
                String line = r.readLine();
                if (!"ping from java".equals(line))
                    throw new Exception("echo was \"" + line + "\"");
                return "peer " + s.getInetAddress().getHostAddress() + " port " + s.getPort();
            }
        });
        step("SocketChannel (NIO): connect, echo", () -> {
            try (SocketChannel ch = SocketChannel.open()) {
                ch.socket().setSoTimeout(20000);
                ch.connect(new InetSocketAddress(echo, 7));
                ByteBuffer out = ByteBuffer.wrap("nio ping\n".getBytes(StandardCharsets.UTF_8));
                while (out.hasRemaining())
                    ch.write(out);
                ByteBuffer in = ByteBuffer.allocate(64);
                while (in.position() < 9 && ch.read(in) > 0)
                    ;
                String got = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
                if (!got.equals("nio ping\n"))
                    throw new Exception("echo was \"" + got + "\"");
                return null;
            }
        });
        step("HttpURLConnection GET http://" + web + "/", () -> {
            HttpURLConnection c = (HttpURLConnection) new URL("http://" + web + "/").openConnection();
            c.setConnectTimeout(20000);
            c.setReadTimeout(20000);
            try (InputStream in = c.getInputStream()) {
                String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                if (c.getResponseCode() != 200 || !body.contains("intranet wiki OK"))
                    throw new Exception("HTTP " + c.getResponseCode() + ": " + body);
                return null;
            }
        });
        step("java.net.http.HttpClient GET http://" + web + "/", () -> {
            HttpClient hc = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20)).build();
            HttpResponse<String> r = hc.send(HttpRequest.newBuilder(URI.create("http://" + web + "/"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200 || !r.body().contains("intranet wiki OK"))
                throw new Exception("HTTP " + r.statusCode() + ": " + r.body());
            return null;
        });
        System.exit(failures == 0 ? 0 : 1);
    }
}
