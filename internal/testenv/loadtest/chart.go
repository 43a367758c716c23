package loadtest

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"
)

// Chart layout, in pixels.
const (
	chartWidth   = 1000
	chartMargin  = 20
	headerHeight = 80
	rowTitle     = 28
	panelHeight  = 190
	panelGap     = 40
	barWidth     = 70
	barGap       = 30
	labelScale   = 2
)

var (
	colorBackground = color.RGBA{0xff, 0xff, 0xff, 0xff}
	colorText       = color.RGBA{0x22, 0x22, 0x22, 0xff}
	colorMuted      = color.RGBA{0x88, 0x88, 0x88, 0xff}
	colorAxis       = color.RGBA{0xbb, 0xbb, 0xbb, 0xff}
	colorSystem     = map[System]color.RGBA{
		Groupchat:       {0x1f, 0x77, 0xb4, 0xff},
		GroupchatDirect: {0x9e, 0xc4, 0xe0, 0xff},
		MUC:             {0xff, 0x7f, 0x0e, 0xff},
		MUCMAM:          {0x2c, 0xa0, 0x2c, 0xff},
	}
)

// ChartPNG draws the report as a PNG: one row per server and scenario, with
// the delivered/s of every system on the left and their p99 latency on the
// right (medians over the rounds), each panel on its own scale and every bar labelled with its value.
func ChartPNG(rep *Report) ([]byte, error) {
	servers := rep.Config.Servers
	scenarios := rep.Config.Scenarios
	systems := rep.Config.Systems
	if len(servers) == 0 || len(scenarios) == 0 || len(systems) == 0 {
		return nil, errors.New("nothing to chart")
	}
	height := headerHeight + len(servers)*len(scenarios)*(rowTitle+panelHeight+chartMargin) + chartMargin
	img := image.NewRGBA(image.Rect(0, 0, chartWidth, height))
	fill(img, img.Bounds(), colorBackground)

	drawText(img, chartMargin, chartMargin, "groupchat vs "+serversText(servers)+" MUC: delivered/s and p99 latency", labelScale, colorText)
	x := chartMargin
	for _, sys := range systems {
		fill(img, image.Rect(x, 52, x+14, 66), colorSystem[sys])
		drawText(img, x+20, 52, sys.String(), labelScale, colorText)
		x += 20 + textWidth(sys.String(), labelScale) + 30
	}

	panelWidth := (chartWidth - 2*chartMargin - panelGap) / 2
	y := headerHeight
	for _, row := range chartRows(servers, scenarios) {
		server, sc := row.server, row.scenario
		drawText(img, chartMargin, y+6, server.String()+": "+sc.Title(), labelScale, colorText)
		y += rowTitle
		var rs []Summary
		for _, sys := range systems {
			rs = append(rs, rep.Summarize(server, sc, sys))
		}
		left, right := "delivered/s (higher is better)", "p99 latency (lower is better)"
		if sc.Kind == Storm {
			left, right = "messages fetched/s", "p99 time to catch up"
		}
		drawPanel(img, image.Rect(chartMargin, y, chartMargin+panelWidth, y+panelHeight), left, systems, rs,
			func(r Summary) float64 { return r.PerSecond },
			func(r Summary) string { return strconv.Itoa(int(r.PerSecond + 0.5)) })
		drawPanel(img, image.Rect(chartMargin+panelWidth+panelGap, y, chartWidth-chartMargin, y+panelHeight), right, systems, rs,
			func(r Summary) float64 { return r.P99.Seconds() },
			func(r Summary) string { return latencyText(r.P99) })
		y += panelHeight + chartMargin
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// chartRow is one row of the chart: a scenario behind a server.
type chartRow struct {
	server   Server
	scenario Scenario
}

func chartRows(servers []Server, scenarios []Scenario) []chartRow {
	var rows []chartRow
	for _, server := range servers {
		for _, sc := range scenarios {
			rows = append(rows, chartRow{server, sc})
		}
	}
	return rows
}

// drawPanel draws one bar per system in r, scaled to the largest value.
func drawPanel(img *image.RGBA, r image.Rectangle, title string, systems []System, results []Summary,
	value func(Summary) float64, label func(Summary) string) {
	drawText(img, r.Min.X, r.Min.Y, title, labelScale, colorMuted)
	base := r.Max.Y - 4
	top := r.Min.Y + 2*glyphH*labelScale + 8 // room for the title and a value label
	fill(img, image.Rect(r.Min.X, base, r.Max.X, base+2), colorAxis)

	peak := 0.0
	for _, res := range results {
		if res.Ran > 0 {
			peak = max(peak, value(res))
		}
	}
	x := r.Min.X + barGap/2
	for i, sys := range systems {
		res := results[i]
		var text string
		barTop := base
		switch {
		case res.Skipped != "":
			text = "skipped"
		case res.Ran == 0:
			text = "failed"
		default:
			text = label(res)
			if peak > 0 {
				barTop = base - int(value(res)/peak*float64(base-top)+0.5)
			}
			fill(img, image.Rect(x, barTop, x+barWidth, base), colorSystem[sys])
		}
		scale := labelScale
		if textWidth(text, scale) > barWidth+barGap-4 {
			scale = 1
		}
		tx := x + (barWidth-textWidth(text, scale))/2
		drawText(img, tx, barTop-glyphH*scale-2, text, scale, colorText)
		x += barWidth + barGap
	}
}

// fill paints r (clipped to img) with c.
func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r.Intersect(img.Bounds()), &image.Uniform{C: c}, image.Point{}, draw.Src)
}
