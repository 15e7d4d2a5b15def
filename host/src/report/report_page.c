/* report_page.c — see report_page.h. */
#include "report_page.h"

#include "report_chart.h"
#include "web_assets.h"

static const char CSS[] =
    "body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1000px}"
    "h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
    "table.trades th{cursor:pointer}table.daily td,table.daily th{padding:2px 3px;font-size:11px}"
    ".chart{margin:12px 0}.note{color:#555;font-size:12px}"
    ".tip{position:absolute;pointer-events:none;background:rgba(255,255,255,.95);"
    "border:1px solid #999;padding:4px 6px;font-size:12px;z-index:100;display:none;"
    "white-space:nowrap}"
    "nav a{margin-right:12px}"
    /* uPlot's legend is a table too: none of the tables' borders */
    ".u-legend td,.u-legend th{border:none;background:none;padding:0 4px;text-align:left}";

void qts_report_js_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&')
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void qts_report_page_head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
    qts_report_html_text(f, title);
    fputs("</title>\n<style>", f);
    fputs(qts_web_uplot_css, f);
    fprintf(f, "</style>\n<style>%s</style>\n<script>", CSS);
    fputs(qts_web_uplot_js, f);
    fputs("</script>\n</head><body>\n", f);
}

/* Every chart: time axis in UTC, cursor and zoom shared by the page's
 * charts, drag to zoom, wheel to zoom around the cursor, shift+drag (or
 * the middle button) to pan, double click to reset, a tooltip with the
 * values under the cursor, a legend whose entries hide/show a series. */
static const char JS[] =
    "(function(){\n"
    "'use strict';\n"
    "var D=JSON.parse(document.getElementById('qts-data').textContent);\n"
    "var PAL=['#1f5fa8','#d95f02','#1b9e77','#7570b3','#e7298a','#66a61e','#e6ab02',"
    "'#a6761d','#666666','#17becf'];\n"
    "var charts=[];\n"
    "function width(){return Math.max(320,Math.min(952,document.body.clientWidth-8));}\n"
    "function utc(ts){return uPlot.tzDate(new Date(ts*1e3),'Etc/UTC');}\n"
    "function fmtT(v){if(v==null)return '';var d=new Date(v*1e3);"
    "return d.toISOString().replace('T',' ').replace('Z',' UTC');}\n"
    "function p2(n){return (n<10?'0':'')+n;}\n"
    /* x labels in UTC, 24 h: the date when the view spans days */
    "function xvals(u,splits){var r=u.scales.x.max-u.scales.x.min;return splits.map(function(v){"
    "var d=new Date(v*1e3),day=d.getUTCFullYear()+'-'+p2(d.getUTCMonth()+1)+'-'+p2(d.getUTCDate()),"
    "hm=p2(d.getUTCHours())+':'+p2(d.getUTCMinutes());"
    "return r>3*86400?day:r>600?hm:hm+':'+p2(d.getUTCSeconds());});}\n"
    "function fmtN(v){if(v==null||!isFinite(v))return '';var a=Math.abs(v);"
    "return a>=1e5?v.toFixed(2):a>=1?v.toPrecision(8).replace(/\\.?0+$/,''):v.toPrecision(6);}\n"
    /* tooltip: the time and each shown series' value at the cursor */
    "function tipPlugin(extra){var tip;return{hooks:{\n"
    " init:function(u){tip=document.createElement('div');tip.className='tip';"
    "u.over.appendChild(tip);"
    "u.over.addEventListener('mouseleave',function(){tip.style.display='none';});},\n"
    " setCursor:function(u){var i=u.cursor.idx;if(i==null||u.cursor.left<0){"
    "tip.style.display='none';return;}\n"
    "  var h='<b>'+fmtT(u.data[0][i])+'</b>';\n"
    "  for(var k=1;k<u.series.length;k++){var s=u.series[k],v=u.data[k][i];"
    "if(!s.show||v==null)continue;h+='<br>'+s.label+': '+fmtN(v);}\n"
    "  if(extra)h+=extra(i);\n"
    "  tip.innerHTML=h;tip.style.display='block';\n"
    "  var x=u.cursor.left+12,y=u.cursor.top+12;"
    "if(x+tip.offsetWidth>u.over.clientWidth)x=u.cursor.left-tip.offsetWidth-12;\n"
    "  tip.style.left=x+'px';tip.style.top=y+'px';}}};}\n"
    /* wheel zoom and pan on the x axis */
    "function navPlugin(){return{hooks:{ready:function(u){var o=u.over;\n"
    " o.addEventListener('wheel',function(e){e.preventDefault();"
    "var sc=u.scales.x,r=sc.max-sc.min,l=u.posToVal(e.offsetX,'x');"
    "var f=e.deltaY<0?0.8:1.25,nr=r*f,lo=l-(l-sc.min)*f;"
    "u.setScale('x',{min:lo,max:lo+nr});},{passive:false});\n"
    " o.addEventListener('mousedown',function(e){if(!(e.shiftKey||e.button===1))return;"
    "e.preventDefault();e.stopPropagation();var x0=e.clientX,sc=u.scales.x,"
    "mn=sc.min,mx=sc.max,px=(mx-mn)/o.clientWidth;\n"
    "  function mv(ev){var d=(ev.clientX-x0)*px;u.setScale('x',{min:mn-d,max:mx-d});}\n"
    "  function up(){document.removeEventListener('mousemove',mv);"
    "document.removeEventListener('mouseup',up);}\n"
    "  document.addEventListener('mousemove',mv);document.addEventListener('mouseup',up);"
    "},true);}}};}\n"
    /* the x range of one chart applied to the others */
    "var syncing=false;\n"
    "function zoomSync(u){if(syncing)return;syncing=true;var s=u.scales.x;"
    "charts.forEach(function(c){if(c!==u&&c.scales.x.min!==s.min)"
    "c.setScale('x',{min:s.min,max:s.max});});syncing=false;}\n"
    "function chart(el,title,series,data,o){o=o||{};\n"
    " var opts={title:title,width:width(),height:o.height||260,tzDate:utc,\n"
    "  cursor:{sync:{key:'qts'},drag:{x:true,y:false}},\n"
    "  scales:{x:{time:true}},\n"
    "  series:[{label:'time (UTC)',value:function(u,v){return fmtT(v);}}].concat(series),\n"
    "  axes:[{values:xvals,space:70},{size:80}],\n"
    "  plugins:[tipPlugin(o.extra),navPlugin()],\n"
    "  hooks:{setScale:[function(u,k){if(k==='x')zoomSync(u);}]}};\n"
    " var div=document.getElementById(el);if(!div)return null;\n"
    " var c=new uPlot(opts,data,div);charts.push(c);return c;}\n"
    "function line(label,color,o){o=o||{};return{label:label,stroke:color,width:1.3,"
    "fill:o.fill,value:function(u,v){return fmtN(v);},spanGaps:true};}\n"
    "function dots(label,color,size){return{label:label,stroke:color,fill:color,"
    "paths:function(){return null;},points:{show:true,size:size||7,fill:color,stroke:color},"
    "value:function(u,v){return fmtN(v);}};}\n"
    "if(D.eq&&D.eq.x.length)chart('c-eq','Equity',[line('equity','#1f5fa8')],[D.eq.x,D.eq.y]);\n"
    "if(D.dd&&D.dd.x.length)chart('c-dd','Drawdown (%)',"
    "[line('drawdown %','#b03030',{fill:'rgba(215,25,28,0.2)'})],[D.dd.x,D.dd.y]);\n"
    "if(D.strat&&D.strat.x.length){var ss=D.strat.names.map(function(n,i){"
    "return line(n,PAL[i%PAL.length]);});\n"
    " chart('c-strat','PnL per strategy (net of fees, marked to market)',ss,"
    "[D.strat.x].concat(D.strat.y));}\n"
    "if(D.cmp&&D.cmp.x.length){var cs=D.cmp.names.map(function(n,i){"
    "return line(n,PAL[i%PAL.length]);});\n"
    " chart('c-cmp','Equity, both runs',cs,[D.cmp.x].concat(D.cmp.y));}\n"
    /* fills on price: points when few, per-bucket counts when dense */
    "(D.inst||[]).forEach(function(ins,k){var F=ins.fills,el='c-px-'+k;\n"
    " if(F.mode==='points'){\n"
    "  var bx=[],by=[],sx=[],sy=[];for(var i=0;i<F.x.length;i++){"
    "if(F.side[i]>0){bx.push(F.x[i]);by.push(F.y[i]);}else{sx.push(F.x[i]);sy.push(F.y[i]);}}\n"
    "  var data=uPlot.join([[ins.px.x,ins.px.y],[bx,by],[sx,sy]]);\n"
    /* the tooltip names each fill at the cursor's time: side, quantity, strategy */
    "  var at={};F.x.forEach(function(x,j){(at[x]=at[x]||[]).push(j);});\n"
    "  var names=(D.strat&&D.strat.names)||[];\n"
    "  chart(el,'Fills on price: '+ins.sym+' ('+F.x.length+' fills)',"
    "[line('price','#666'),dots('buy','#1a9641'),dots('sell','#d7191c')],data,"
    "{extra:function(i){return (at[data[0][i]]||[]).map(function(j){"
    "return '<br>'+(F.side[j]>0?'buy ':'sell ')+fmtN(F.q[j])+' @ '+fmtN(F.y[j])+"
    "(F.s[j]>=0&&names[F.s[j]]?' ('+names[F.s[j]]+')':'');}).join('');}});\n"
    " }else{\n"
    "  var d2=uPlot.join([[ins.px.x,ins.px.y],[F.x,F.bpx,F.spx,F.buy,F.sell]]);\n"
    "  var px=[d2[0],d2[1],d2[2],d2[3]],cnt=[d2[0],d2[4],d2[5].map(function(v){"
    "return v==null?null:-v;})];\n"
    "  chart(el,'Fills on price: '+ins.sym+' ('+F.n+' fills; mean price of each time bucket)',"
    "[line('price','#666'),dots('buy mean px','#1a9641',5),dots('sell mean px','#d7191c',5)],px,"
    "{extra:function(i){var b=d2[4][i],s=d2[5][i];return b==null&&s==null?'':"
    "'<br>buys '+(b||0)+', sells '+(s||0);}});\n"
    "  var bars=uPlot.paths.bars({size:[0.9,6]});\n"
    "  chart(el+'-n','Fills per time bucket: '+ins.sym+' (buys up, sells down)',"
    "[{label:'buys',stroke:'#1a9641',fill:'rgba(26,150,65,0.6)',paths:bars},"
    "{label:'sells',stroke:'#d7191c',fill:'rgba(215,25,28,0.6)',paths:bars,"
    "value:function(u,v){return v==null?'':-v;}}],cnt,{height:140});\n"
    " }});\n"
    /* trade list: click a heading to sort by it */
    "document.querySelectorAll('table.trades th').forEach(function(th,col){"
    "th.addEventListener('click',function(){var tb=th.closest('table').tBodies[0];"
    "var "
    "rows=Array.prototype.slice.call(tb.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';"
    "\n"
    " rows.sort(function(a,b){var x=a.cells[col].dataset.v||a.cells[col].textContent,"
    "y=b.cells[col].dataset.v||b.cells[col].textContent,nx=parseFloat(x),ny=parseFloat(y);"
    "var c=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return asc?c:-c;});\n"
    " rows.forEach(function(r){tb.appendChild(r);});});});\n"
    "window.addEventListener('resize',function(){charts.forEach(function(c){"
    "c.setSize({width:width(),height:c.height});});});\n"
    "})();\n";

void qts_report_page_script(FILE *f) { fprintf(f, "<script>\n%s</script>\n", JS); }
